"""Django's `connection` and `connections`, typed as django-tenants makes them.

Every alias uses django-tenants' backend, whose connections carry a schema (`schema_name`, `set_tenant`,
`set_schema_to_public`); the Django stubs know only the base wrapper, and django-tenants ships no types. These are
Django's own objects, unchanged at run time: import them from here where the schema is read or switched.
"""

from typing import TYPE_CHECKING, cast

from django import db

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.utils import ConnectionHandler

    from tenants.models import Tenant

    class TenantDatabaseWrapper(BaseDatabaseWrapper):
        """django_tenants.postgresql_backend.base.DatabaseWrapper, as far as this project uses it."""

        schema_name: str
        tenant: object  # a Tenant, or django-tenants' FakeTenant for the public schema
        include_public_schema: bool

        def set_tenant(self, tenant: Tenant, include_public: bool = True) -> None: ...
        def set_schema_to_public(self) -> None: ...

    class TenantConnectionHandler(ConnectionHandler):
        def __getitem__(self, alias: str) -> TenantDatabaseWrapper: ...


connection = cast("TenantDatabaseWrapper", db.connection)
connections = cast("TenantConnectionHandler", db.connections)
