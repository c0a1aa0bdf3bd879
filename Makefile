.PHONY: run test bench lint fuzz
run:  ## the whole system on a seeded demo tenant (web :8000, worker, beat)
	scripts/run.sh
test:  ## every test (real PostgreSQL, Redis, Celery worker, chromium)
	scripts/test.sh
fuzz:  ## exploratory API fuzzing as every role, random seed, FUZZ_SECONDS (default 600)
	scripts/fuzz.sh
bench:  ## benchmark: read models vs the single-database way
	scripts/bench.sh
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
