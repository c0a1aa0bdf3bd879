"""Issue 26 #12 and #13: who may read /metrics in production, and gunicorn's control socket."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from django.test import Client

from helpdesk import launchers
from tests.conftest import OUTPUT, ROOT, wait_for

# --- #12: /metrics trusted any loopback client; behind a same-host proxy everyone is loopback -----------------


def test_production_refuses_to_start_without_a_metrics_token():
    env = {k: v for k, v in os.environ.items() if k not in ("METRICS_TOKEN",)}
    env.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings.production",
        ALLOWED_HOSTS="x.example.com",
        SECRET_KEY="a-long-random-production-secret-that-is-not-committed-anywhere-0123456789",
    )
    for token in (None, "", "  "):
        if token is not None:
            env["METRICS_TOKEN"] = token
        result = subprocess.run(
            [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode != 0 and "Set the METRICS_TOKEN environment variable" in result.stderr, token


def test_where_loopback_is_not_trusted_a_local_client_without_the_token_is_refused(committed, settings):
    settings.METRICS_TRUST_LOOPBACK, settings.METRICS_TOKEN = False, ""
    proxied = Client(HTTP_HOST="localhost")  # 127.0.0.1, as every client behind a same-host proxy
    assert proxied.get("/metrics").status_code == 401
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert proxied.get("/metrics").status_code == 401
    assert proxied.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics").status_code == 200


def test_production_settings_never_trust_loopback():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.production",
        "ALLOWED_HOSTS": "x.example.com",
        "SECRET_KEY": "a-long-random-production-secret-that-is-not-committed-anywhere-0123456789",
        "METRICS_TOKEN": "a-metrics-token-0123456789",
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.METRICS_TRUST_LOOPBACK)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


# --- #13: gunicorn's control socket, one per user, shared by every instance ---------------------------------


def _in_main_loop(proc: subprocess.Popen, log: Path) -> None:
    """Return once the master runs its main loop, which it enters only after opening (or not) its control socket:
    a worker added by SIGTTIN is booted from that loop."""
    booted = lambda: log.read_text().count("Booting worker")  # noqa: E731
    wait_for(lambda: booted() >= 1, timeout=30, message="the first worker")  # spawned before the socket opens
    os.kill(proc.pid, signal.SIGTTIN)
    wait_for(lambda: booted() >= 2, timeout=30, message="the worker added from the main loop")


def _gunicorn(home: Path, name: str, **extra_env) -> tuple[subprocess.Popen, int]:
    port = launchers.free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"},
        "HOME": str(home),  # gunicorn's default socket: $HOME/.gunicorn/gunicorn.ctl
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "HELPDESK_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        **extra_env,
    }
    log = OUTPUT / f"gunicorn-{name}-{port}.log"
    proc = launchers.start_gunicorn(["-c", "helpdesk/gunicorn.conf.py"], port=port, env=env, log_path=log)
    _in_main_loop(proc, log)
    return proc, port


def test_two_instances_of_one_user_open_no_shared_control_socket(django_db_setup, tmp_path):
    procs = []
    try:
        for name in ("first", "second"):
            procs.append(_gunicorn(tmp_path, name))
        for _, port in procs:
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code in (200, 503)
        sockets = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.ctl"))
        assert sockets == [], f"control sockets opened: {sockets}"
    finally:
        for proc, _ in procs:
            launchers.stop(proc)


def test_an_instance_asked_for_a_control_socket_gets_its_own(django_db_setup, tmp_path):
    procs = []
    try:
        for name in ("first", "second"):
            procs.append(_gunicorn(tmp_path, name, HELPDESK_CONTROL_SOCKET=str(tmp_path / f"{name}.ctl")))
        # gunicorn opens an asked-for socket from a background thread of the master: it may land after the workers.
        wait_for(
            lambda: sorted(p.name for p in tmp_path.glob("*.ctl")) == ["first.ctl", "second.ctl"],
            timeout=15,
            message="each instance's own control socket",
        )
        assert not (tmp_path / ".gunicorn").exists()
    finally:
        for proc, _ in procs:
            launchers.stop(proc)
