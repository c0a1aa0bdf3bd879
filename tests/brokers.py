"""The Celery broker under the pipeline tests: Redis (the test session's own server) or RabbitMQ (the test run's
own vhost on 127.0.0.1:5672, reached through a TCP proxy of this session).

A module runs its tests on both with
    pytestmark = pytest.mark.parametrize("broker", BROKERS, indirect=True, scope="module")
and every other test gets Redis. The `broker` fixture points this process's producer at the broker, and the
worker fixtures start their worker on it.

"Broker down" on RabbitMQ: the shared RabbitMQ must keep running for the other checkouts on this machine, so
the test session reaches it only through a proxy it owns, and stops that proxy. To the producer and the worker
that is what a stopped (or crashed, or unreachable) broker looks like: new connections are refused and open ones
are cut, while the broker keeps its durable queues, as a restarted RabbitMQ does. Deleting the vhost instead
would also delete the queues (a lost broker, not a stopped one); revoking permissions leaves open channels
publishing.
"""

import contextlib
import socket
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import redis
from celery import current_app
from django.conf import settings

from helpdesk import launchers
from helpdesk.databases import WRITE_ALIAS

BROKERS = ["redis", "rabbitmq"]
RABBITMQ_PORT = 5672


class TcpProxy:
    """127.0.0.1:<port> forwarded to 127.0.0.1:<upstream>. stop() closes the port and cuts every open connection;
    start() opens the same port again."""

    def __init__(self, upstream: int):
        self.upstream = upstream
        self.port = launchers.free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes the thread blocked in accept(); close() alone would not
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by stop()
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@dataclass
class RabbitMQ:
    """The test run's vhost (named after its write database, so two checkouts never share one) and its proxy."""

    vhost: str
    proxy: TcpProxy

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.proxy.port}/{self.vhost}"


@pytest.fixture(scope="session")
def rabbitmq():
    vhost = settings.DATABASES[WRITE_ALIAS]["NAME"]
    try:
        launchers.create_vhost(vhost)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"RabbitMQ cannot be set up on 127.0.0.1:5672 (scripts/bootstrap.sh starts it): {exc}")
    proxy = TcpProxy(RABBITMQ_PORT)
    proxy.start()
    yield RabbitMQ(vhost, proxy)
    proxy.stop()
    launchers.delete_vhost(vhost)


@dataclass
class Broker:
    name: str
    url: str
    stop: Callable[[], None]  # the broker goes away for this session's producer and workers
    start: Callable[[], None]
    purge: Callable[[], object]  # drop the tasks left by earlier tests
    worker_env: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def broker(request, redis_server):
    """The broker of this module's tests: Redis unless the module is parametrized over BROKERS."""
    if getattr(request, "param", "redis") == "redis":
        yield Broker(
            "redis",
            settings.REDIS_URL,
            stop=redis_server.stop,
            start=redis_server.start,
            purge=lambda: redis.Redis.from_url(settings.REDIS_URL).flushdb(),
        )
        return
    rabbit: RabbitMQ = request.getfixturevalue("rabbitmq")
    launchers.use_broker(current_app, rabbit.url)
    try:
        yield Broker(
            "rabbitmq",
            rabbit.url,
            stop=rabbit.proxy.stop,
            start=rabbit.proxy.start,
            purge=current_app.control.purge,
            worker_env={"TEST_CELERY_BROKER_URL": rabbit.url},
        )
    finally:
        rabbit.proxy.start()  # if a test left it stopped
        launchers.use_broker(current_app, settings.CELERY_BROKER_URL)
