"""Issue 26 #6: in `make run`, a Celery worker (or beat) that exits is restarted and the web keeps serving.

The supervision of scripts/run.sh (scripts/supervise.sh) is run here as run.sh runs it, with short-lived fake
children standing in for the worker and a long sleep standing in for the web server."""

import os
import signal
import subprocess
from pathlib import Path

from tests.conftest import ROOT, wait_for

DRIVER = """
set -euo pipefail
. scripts/supervise.sh
trap stop_all INT TERM EXIT
restart_forever worker bash -c "$WORKER"
sleep 300 &
web=$!
pids+=("$web")
echo "$web" > "$LOG_DIR/web.pid"
wait "$web"
"""


def _run(tmp_path: Path, worker: str) -> subprocess.Popen:
    env = {**os.environ, "WORKER": worker, "LOG_DIR": str(tmp_path), "RESTART_DELAY_SECONDS": "0.05"}
    return subprocess.Popen(
        ["bash", "-c", DRIVER], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(driver: subprocess.Popen) -> str:
    driver.send_signal(signal.SIGTERM)
    _, stderr = driver.communicate(timeout=30)
    return stderr


def test_a_worker_that_keeps_crashing_is_restarted_and_the_web_keeps_running(tmp_path):
    starts = tmp_path / "starts"
    driver = _run(tmp_path, f'echo started >> "{starts}"; exit 3')
    try:
        wait_for(lambda: len(_lines(starts)) >= 3, timeout=30, message="the crashing worker's third start")
        web = int(wait_for(lambda: _lines(tmp_path / "web.pid"), message="the web's pid")[0])
        assert driver.poll() is None and _alive(web), "the demo stopped when its worker crashed"
    finally:
        stderr = _stop(driver)
    assert "worker exited with status 3; restarting it" in stderr
    assert not _alive(web), "the web server outlived the demo's stop"


def test_a_killed_worker_is_restarted_and_stop_leaves_no_process(tmp_path):
    pids = tmp_path / "worker.pids"
    driver = _run(tmp_path, f'echo $$ >> "{pids}"; exec sleep 300')
    try:
        first = int(wait_for(lambda: _lines(pids), timeout=30, message="the worker's start")[0])
        os.kill(first, signal.SIGKILL)  # as the OOM killer would
        second = int(wait_for(lambda: _lines(pids)[1:], timeout=30, message="the worker's restart")[0])
        assert second != first and _alive(second)
        assert driver.poll() is None
    finally:
        _stop(driver)
    wait_for(lambda: not _alive(second), timeout=30, message="the restarted worker to be stopped with the demo")
