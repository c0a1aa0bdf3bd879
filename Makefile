.PHONY: run test fuzz bench lint
run:  ## the whole system on a seeded demo tenant (web :8000, worker, beat)
	scripts/run.sh
test:  ## every test (real PostgreSQL, Redis, Celery worker, chromium)
	scripts/test.sh
fuzz:  ## exploratory fuzzing: the API as every role (random seed, FUZZ_SECONDS, default 600), then the property tests (random, longer)
	scripts/fuzz.sh
	HYPOTHESIS_PROFILE=explore scripts/test.sh tests/reporting/test_properties.py
bench:  ## benchmark (python -m benchmarks): read models vs the single-database way
	scripts/bench.sh
lint:  ## ruff (lint, format) and mypy, as make test runs them
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy
