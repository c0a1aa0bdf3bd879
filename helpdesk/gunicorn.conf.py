"""Gunicorn settings for `make run` and the test server (`gunicorn -c helpdesk/gunicorn.conf.py`)."""

import os

from prometheus_client import multiprocess

bind = os.environ.get("HELPDESK_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 30
# Request size limits (Django enforces the body size: DATA_UPLOAD_MAX_MEMORY_SIZE).
limit_request_line = 8190
# gunicorn 25.1+ opens a control socket (gunicornc: worker counts, reload, shutdown) at one path per user
# ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl): every instance run by that user would share it, and
# each new one would take it over from the last. Off, unless HELPDESK_CONTROL_SOCKET names this instance's own.
if os.environ.get("HELPDESK_CONTROL_SOCKET"):
    control_socket = os.environ["HELPDESK_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def child_exit(server, worker):
    # A dead worker's live gauges must not linger in the multiprocess metrics directory.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
