"""gunicorn and a Celery worker (with beat) under the benchmark's settings, started through the same launchers
as the test suite's servers (helpdesk.launchers); every one is stopped at the end of the run."""

import os
import subprocess

from benchmarks import ROOT
from helpdesk import launchers

LOGS = ROOT / "var"


class Processes:
    """gunicorn and a Celery worker under the benchmark settings; stopped at exit."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        self.webs: list[subprocess.Popen] = []
        self.env = dict(os.environ)  # the same settings (and database overrides) as this process

    def web(self, workers: int, threads: int, extra_env: dict | None = None) -> str:
        # Threads, so slow dashboards cannot take every request slot: what is measured is contention for CPU
        # and database, not a queue in front of a full worker pool.
        port = launchers.free_port()
        options = ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "gthread"]
        options += ["--threads", str(threads), "--timeout", "300"]
        try:
            proc = launchers.start_gunicorn(
                options, port=port, env={**self.env, **(extra_env or {})}, log_path=LOGS / "bench-gunicorn.log"
            )
        except launchers.DidNotStart as exc:
            raise SystemExit(f"benchmark: {exc}") from None
        self.procs.append(proc)
        self.webs.append(proc)
        return f"http://127.0.0.1:{port}"

    def stop_web(self):
        for proc in self.webs:
            launchers.stop(proc)
            self.procs.remove(proc)
        self.webs = []

    def worker(self, extra_env: dict | None = None):
        try:
            proc = launchers.start_celery_worker(
                env={**self.env, **(extra_env or {})},
                log_path=LOGS / "bench-worker.log",
                concurrency=1,
                schedule=LOGS / "bench-beat-schedule",
            )
        except launchers.DidNotStart as exc:
            raise SystemExit(f"benchmark: {exc}") from None
        self.procs.append(proc)
        self.workers.append(proc)

    def stop_workers(self):
        for proc in self.workers:
            launchers.stop(proc)
            self.procs.remove(proc)
        self.workers = []

    def stop(self):
        for proc in self.procs:
            launchers.stop(proc)
        self.procs = []
