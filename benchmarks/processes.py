"""gunicorn and a Celery worker (with beat) under the benchmark's settings, started through the same launchers
as the test suite's servers (helpdesk.launchers); every one is stopped at the end of the run."""

import os
import subprocess
import threading
from pathlib import Path

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

    def web(self, workers: int, threads: int, extra_env: dict | None = None, checkout: Path = ROOT) -> str:
        """gunicorn serving `checkout`'s code (another checkout's, for a side-by-side run) under these settings."""
        # Threads, so slow dashboards cannot take every request slot: what is measured is contention for CPU
        # and database, not a queue in front of a full worker pool.
        port = launchers.free_port()
        options = ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "gthread"]
        options += ["--threads", str(threads), "--timeout", "300"]
        try:
            proc = launchers.start_gunicorn(
                options,
                port=port,
                env={**self.env, **(extra_env or {})},
                log_path=LOGS / "bench-gunicorn.log",
                cwd=checkout,
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


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants, as they are now (Linux /proc)."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(entry)
        except OSError:
            continue  # the process ended meanwhile
        times[int(entry.name)] = _cpu(fields)
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def _stat(entry: Path) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state first)."""
    return (entry / "stat").read_text().rsplit(")", 1)[1].split()


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU seconds of the PostgreSQL backends whose application_name is `name` (a server started with
    PGAPPNAME=name), from start() to stop(). Sampled every 0.2 s, so a backend that exits meanwhile (a connection
    past CONN_MAX_AGE) still counts up to its last sample."""

    def __init__(self, name: str):
        self.name = name
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self, cursor) -> None:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [self.name])
        for (pid,) in cursor.fetchall():
            try:
                seconds = _cpu(_stat(Path(f"/proc/{pid}")))
            except OSError:
                continue
            self.first.setdefault(pid, seconds if self._thread is None else 0.0)
            self.last[pid] = seconds

    def start(self) -> "BackendCpu":
        import psycopg
        from django.conf import settings

        from helpdesk.databases import WRITE_ALIAS

        config = settings.DATABASES[WRITE_ALIAS]
        self._conn = psycopg.connect(
            host=config["HOST"],
            port=config["PORT"],
            user=config["USER"],
            password=config.get("PASSWORD") or None,
            dbname=config["NAME"],
            autocommit=True,
        )
        self._sample(self._conn.cursor())  # what the backends had used before: not counted
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        cursor = self._conn.cursor()
        while not self._stop.wait(0.2):
            self._sample(cursor)

    def stop(self) -> float:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._sample(self._conn.cursor())
        self._conn.close()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)
