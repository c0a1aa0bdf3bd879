"""The status table: each tenant's projection figures in one row of the reporting database's public schema
(`projection_tenant_status`), so that /healthz and /metrics read every tenant with one query (reporting.health)
instead of opening each tenant's schema.

What a row holds: the checkpoint's pending count and oldest pending event, and the open dead letters. Whoever
writes a tenant's checkpoint figures (projector run, sweep, rebuild, dead-letter retry) publishes them here in
the same transaction, holding the checkpoint's row lock, and only when they changed: an idle tenant costs no
write. No row means nothing was ever waiting and nothing is dead-lettered.
"""

from dataclasses import dataclass
from datetime import datetime

from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections

STATUS_TABLE = "public.projection_tenant_status"


def _upsert(select: str, *, dead_letters: bool = True) -> str:
    """INSERT of (schema_name, pending_count, oldest_pending_at, dead_letters, updated_at) rows from `select`,
    writing nothing where the stored figures are the same. Without `dead_letters` the stored count is kept."""
    figures = ("pending_count", "oldest_pending_at", *(("dead_letters",) if dead_letters else ()))
    stored, new = ", ".join(f"s.{c}" for c in figures), ", ".join(f"EXCLUDED.{c}" for c in figures)
    return f"""INSERT INTO {STATUS_TABLE} AS s (schema_name, pending_count, oldest_pending_at, dead_letters, updated_at)
        {select}
        ON CONFLICT (schema_name) DO UPDATE
        SET {", ".join(f"{c} = EXCLUDED.{c}" for c in figures)}, updated_at = EXCLUDED.updated_at
        WHERE ({stored}) IS DISTINCT FROM ({new})"""


def publish() -> None:
    """Publish the current tenant's checkpoint figures and open dead letters. Call it in the reporting
    transaction that changed them, while holding the checkpoint's row lock: publications then happen in the
    order of the checkpoint's own changes, and a rollback takes both back."""
    connection = connections[READ_ALIAS]
    schema = connection.schema_name
    quoted = connection.ops.quote_name(schema)
    dead = f"(SELECT count(*) FROM {quoted}.projection_dead_letter WHERE dead AND resolved_at IS NULL)"
    with connection.cursor() as cursor:
        cursor.execute(
            _upsert(
                f"SELECT %s, pending_count, oldest_pending_at, {dead}, now() "
                f"FROM {quoted}.projection_checkpoint WHERE id = 1"
            ),
            [schema],
        )


def forget(schema_name: str) -> None:
    """A deleted tenant's row goes: probes must not report a tenant that no longer exists."""
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute(f"DELETE FROM {STATUS_TABLE} WHERE schema_name = %s", [schema_name])


def publishing_update(update: str) -> str:
    """`update` (an UPDATE of a tenant's checkpoint figures) and the publication of what it wrote, as one
    statement: nothing is published where it updated no row. Dead letters are left as published (only a
    projector run or a retry changes them, and each publishes). Parameters: the UPDATE's, then the schema name."""
    return f"WITH moved AS ({update} RETURNING pending_count, oldest_pending_at) " + _upsert(
        "SELECT %s, pending_count, oldest_pending_at, 0, now() FROM moved", dead_letters=False
    )


@dataclass(frozen=True, slots=True)
class TenantFigures:
    pending_count: int = 0
    oldest_pending_at: datetime | None = None
    dead_letters: int = 0

    def lag_seconds(self, now: datetime) -> float:
        return max((now - self.oldest_pending_at).total_seconds(), 0.0) if self.oldest_pending_at else 0.0


IDLE = TenantFigures()


def stored_attention() -> dict[str, TenantFigures]:
    """The tenants whose published figures have something to report (events waiting, dead letters)."""
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute(
            f"SELECT schema_name, pending_count, oldest_pending_at, dead_letters FROM {STATUS_TABLE} "
            "WHERE pending_count > 0 OR dead_letters > 0"
        )
        return {schema: TenantFigures(*values) for schema, *values in cursor.fetchall()}
