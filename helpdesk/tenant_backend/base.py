"""django-tenants' PostgreSQL backend, closing the one way its remembered search_path can go stale.

With TENANT_LIMIT_SET_CALLS the backend sets search_path once per connection and tenant switch and forgets it
on a close, a rollback or a rollback to a savepoint, where PostgreSQL reverts a SET made in what they undo. A
COMMIT of a transaction that has already failed (an error caught inside an atomic block, which then ends
normally) is a rollback too, and raises nothing: PostgreSQL reverts the path there as well, so it is forgotten
there as well (tests/tenants/test_isolation.py)."""

from django_tenants.postgresql_backend import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def _commit(self):
        if self.connection is not None and self.connection.info.transaction_status == TransactionStatus.INERROR:
            self.search_path_set_schemas = None
        return super()._commit()
