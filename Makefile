.PHONY: run test bench lint
run:  ## the whole system on a seeded demo tenant (web :8000, worker, beat)
	scripts/run.sh
test:  ## every test (real PostgreSQL, Redis, Celery worker, chromium)
	scripts/test.sh
bench:  ## benchmark: read models vs the single-database way
	scripts/bench.sh
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
