"""`make fuzz`: the exploratory fuzz run (not part of `make test`; run through scripts/fuzz.sh).

The schemathesis CLI against the real HTTP server of tenant alpha, as every role, with a random seed (printed;
FUZZ_SEED repeats a run), all phases (examples, coverage, fuzzing, stateful) and many more examples, until
FUZZ_SECONDS (default 600) are spent, split evenly between the roles. Each failure is printed with a `curl`
that reproduces it. Token revocation is left out (it would log the role out for the rest of its run; the
deterministic run in make test fuzzes it with a fresh token each time). What the run commits is removed afterwards.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.api.test_fuzz import (
    REVOKE,
    ROLES,
    fuzz_world,
    live_server_env,  # noqa: F401 (a fixture: token requests are not throttled here)
    raw_schema,
)

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "fuzz"
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


def test_explore_every_role(live_server_url, worlds, django_db_blocker):
    seconds = int(os.environ.get("FUZZ_SECONDS", "600"))
    seed = int(os.environ.get("FUZZ_SEED") or secrets.randbelow(2**31))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    schema_path = OUTPUT / "schema.json"
    schema_path.write_text(json.dumps(raw_schema))
    base_url = live_server_url.format(host="127.0.0.1")  # the tenant comes from the Host header (in each curl)
    print(f"\nfuzz: seed {seed} (repeat with FUZZ_SEED={seed}), {seconds}s over {len(ROLES)} roles", flush=True)
    failed = []
    with fuzz_world(worlds, django_db_blocker) as (world, sessions):
        for role in ROLES:
            headers = [
                arg
                for name, value in sessions[role].headers.items()
                if name in ("Host", "Authorization")
                for arg in ("-H", f"{name}: {value}")
            ]
            command = [
                sys.executable, "-m", "schemathesis.cli", "run", str(schema_path), "--url", base_url,
                "--seed", str(seed), "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "500",
                "--max-time", str(max(seconds // len(ROLES), 1)), "--checks", CHECKS, "--generation-allow-x00",
                "true", "--request-timeout", "30", "--generation-database", str(OUTPUT / "examples"),
                "--workers", "1", "--no-color", "--report", "junit",
                "--report-junit-path", str(OUTPUT / f"{role}.xml"), *headers,
                # Revoking would log the role out for the rest of its run (make test fuzzes it with fresh tokens).
                "--exclude-path", REVOKE,
            ]  # fmt: skip
            print(f"\nfuzz: as {role}", flush=True)
            if subprocess.run(command, timeout=seconds + 300).returncode != 0:
                failed.append(role)
    assert failed == [], f"failures as {', '.join(failed)} (seed {seed}); the curl commands above reproduce them"
