"""django-tenants' PostgreSQL backend, closing the one way its remembered search_path can go stale, and not
setting again a path PostgreSQL already has.

With TENANT_LIMIT_SET_CALLS the backend sets search_path once per connection and tenant switch and forgets it
on a close, a rollback or a rollback to a savepoint, where PostgreSQL reverts a SET made in what they undo. A
COMMIT of a transaction that has already failed (an error caught inside an atomic block, which then ends
normally) is a rollback too, and raises nothing: PostgreSQL reverts the path there as well, so it is forgotten
there as well (tests/tenants/test_isolation.py).

django-tenants also forgets the path on every switch, even a switch back to the path the connection already has:
each request switches to public to find its tenant and then to the tenant, and the reporting connection follows
both switches without a query in between. So this backend remembers the path PostgreSQL has (`path_on_server`,
forgotten wherever django-tenants forgets its own because PostgreSQL may have reverted it) and sets only a
different one: a request to the tenant a connection served last sets none (two or three round trips fewer)."""

from django_tenants.postgresql_backend import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    search_path_set_schemas: list[str] | None  # django-tenants': the path it set since the last switch

    def __init__(self, *args, **kwargs):
        self.path_on_server: list[str] | None = None
        super().__init__(*args, **kwargs)

    def _handle_search_path(self, cursor=None):
        if (
            self.search_path_set_schemas is None
            and self.path_on_server is not None
            and self.path_on_server == self._get_cursor_search_paths()
        ):
            self.search_path_set_schemas = self.path_on_server
        super()._handle_search_path(cursor)
        if not self._setting_search_path:
            self.path_on_server = self.search_path_set_schemas  # None: a SET failed, the path is unknown

    def connect(self):
        self.path_on_server = None  # a new session starts on the server's default path
        super().connect()

    def close(self):
        self.path_on_server = None
        super().close()

    def rollback(self):
        self.path_on_server = None
        super().rollback()

    def savepoint_rollback(self, sid):
        try:
            super().savepoint_rollback(sid)
        finally:
            self.path_on_server = None

    def _commit(self):
        if self.connection is not None and self.connection.info.transaction_status == TransactionStatus.INERROR:
            self.search_path_set_schemas = None
            self.path_on_server = None
        return super()._commit()
