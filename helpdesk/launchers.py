"""The web server (gunicorn) and a Celery worker with beat as child processes, started and stopped one way for the
test suite's fixtures (tests/conftest.py) and the benchmark (benchmarks/processes.py).

Each runs `python -m ...` from the checkout with the caller's environment (so the same settings and databases),
in a session of its own, so that stopping it also stops its children (gunicorn's workers, Celery's pool and
beat); its output is appended to a log file. A start returns once the process answers.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class DidNotStart(RuntimeError):
    """The process exited, or did not answer in time; the message names its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_module(args: list[str], *, env: dict, log_path: Path, cwd: Path = ROOT) -> subprocess.Popen:
    """`python -m <args>` in a session of its own, its output appended to log_path; run from `cwd`, whose
    packages come first on the path (another checkout's, for the benchmark's side-by-side runs)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_gunicorn(
    options: list[str], *, port: int, env: dict, log_path: Path, timeout: float = 30, cwd: Path = ROOT
) -> subprocess.Popen:
    """gunicorn serving helpdesk.wsgi with `options`, which bind it to 127.0.0.1:`port` (as flags or through
    a config file and the environment); returns once the port accepts connections."""
    proc = start_module(["gunicorn", "helpdesk.wsgi:application", *options], env=env, log_path=log_path, cwd=cwd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise DidNotStart(f"gunicorn did not start, see {log_path}")


def start_celery_worker(
    *, env: dict, log_path: Path, concurrency: int, schedule: Path, name: str | None = None, timeout: float = 60
) -> subprocess.Popen:
    """A Celery worker of the project's app with beat (-B); returns once it has logged that it is ready."""
    # Only what this worker writes counts: the log may hold an earlier worker's " ready.".
    start = log_path.stat().st_size if log_path.exists() else 0
    args = ["celery", "-A", "helpdesk", "worker", "-B", "--concurrency", str(concurrency), "--loglevel", "INFO"]
    if name:
        args += ["-n", name]
    proc = start_module([*args, "--schedule", str(schedule)], env=env, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if b" ready." in log_path.read_bytes()[start:]:
            return proc
        if proc.poll() is not None:
            raise DidNotStart(f"Celery worker exited early, see {log_path}")
        time.sleep(0.2)
    stop(proc)
    raise DidNotStart(f"Celery worker not ready in {timeout:g} s, see {log_path}")


def stop(proc: subprocess.Popen, *, timeout: float = 20) -> None:
    """SIGTERM to the process's session; SIGKILL if it has not exited `timeout` seconds later."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def use_broker(app, url: str) -> None:
    """Point this process's Celery producer at the broker at `url` (the tests and the benchmark run the same
    pipeline on each broker in turn); its pooled connections to the previous one are closed."""
    from kombu import pools

    from helpdesk.brokers import transport_options

    pools.reset()  # kombu keeps one pool per broker for the process: closed and forgotten
    app.conf.broker_url = url
    app.conf.broker_transport_options = transport_options(url)
    app._pool = None
    app.amqp._producer_pool = None


RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672"  # the RabbitMQ of every developer's machine and CI


def rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, text=True, timeout=60)


def create_vhost(name: str) -> None:
    """A fresh RabbitMQ vhost `name` (one left by an interrupted run is replaced) that guest may use."""
    rabbitmqctl("delete_vhost", name, check=False)
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")


def delete_vhost(name: str) -> None:
    rabbitmqctl("delete_vhost", name, check=False)
