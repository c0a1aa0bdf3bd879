"""Which reporting database answers a person's read: a streaming replica of the reporting primary
(REPORTING_REPLICA_URLS, PostgreSQL's own physical replication) while it replays within the bound, otherwise another
replica, otherwise the primary.

Only the reads that serve a person come here (dashboard, its figures endpoint and CSVs, the report API: see
`serving`); the projector, rebuilds, checks, the sweep and anything that must see its own writes use the primary's
alias directly. Replicas take turns per request, so several share the load. A replica is asked where its replay
stands in the same request that reads it (`position`, one statement): one further behind than
REPORTING_REPLICA_MAX_LAG_SECONDS is passed over for that request; one that fails (down, refusing, or no longer in
recovery: promoted, or pointed at a read-write server by mistake) is passed over by this process for
REPORTING_REPLICA_RETRY_SECONDS, with a log line. A person never gets a 5xx because of a replica.
"""

import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError

from helpdesk.databases import READ_ALIAS
from helpdesk.tenancy import connections

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Caught up: it has replayed all it received and is streaming now, so it holds every commit of the primary up to
# a moment ago. Otherwise its last replayed commit's time is how far it holds the primary's commits.
POSITION_SQL = """
SELECT pg_is_in_recovery(), now(), pg_last_xact_replay_timestamp(),
       COALESCE(pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn(), false)
       AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
"""


class NotServing(Exception):
    """This replica may not answer this read (too far behind, or not a replica at all)."""


class NotInRecovery(NotServing):
    """A replica's URL reaches a server that is not replaying (promoted, or the wrong server): never read."""


@dataclass(frozen=True)
class Position:
    """How far a reporting database holds the primary's commits. For the primary: everything, lag 0."""

    alias: str
    lag_seconds: float
    replayed_through: datetime | None  # every commit of the primary up to then is visible here; None: all of them

    @property
    def replica(self) -> bool:
        return self.alias != READ_ALIAS


PRIMARY = Position(READ_ALIAS, 0.0, None)


def replica_aliases() -> list[str]:
    return list(settings.REPORTING_REPLICA_ALIASES)


def replica_name(alias: str) -> str:
    """How operators know a replica (metrics, health, logs): its host and port, never its credentials."""
    config = settings.DATABASES[alias]
    return f"{config.get('HOST') or 'localhost'}:{config.get('PORT') or 5432}"


def position(alias: str) -> Position:
    """Where the replica `alias` stands now (raises DatabaseError if it does not answer, NotInRecovery if it is
    not a replica)."""
    if alias == READ_ALIAS:
        return PRIMARY
    with connections[alias].cursor() as cursor:
        cursor.execute(POSITION_SQL)
        in_recovery, now, replayed_at, caught_up = cursor.fetchone()
    if not in_recovery:
        raise NotInRecovery(f"reporting replica {replica_name(alias)} is not in recovery (promoted?): refused")
    if caught_up:
        return Position(alias, 0.0, now)
    lag = math.inf if replayed_at is None else max((now - replayed_at).total_seconds(), 0.0)
    return Position(alias, lag, replayed_at)


def position_within_bound(alias: str) -> Position:
    """position(alias), refusing (NotServing) a replica further behind than REPORTING_REPLICA_MAX_LAG_SECONDS."""
    where = position(alias)
    if where.lag_seconds > settings.REPORTING_REPLICA_MAX_LAG_SECONDS:
        raise NotServing(f"reporting replica {replica_name(alias)} replays {where.lag_seconds:.1f} s behind")
    return where


_turns = itertools.count()
_failed_until: dict[str, float] = {}  # alias -> monotonic time before which this process does not try it


def _candidates() -> list[str]:
    """This process's replicas in turn order (a different one first each request), less those that failed lately."""
    aliases = replica_aliases()
    if not aliases:
        return []
    first = next(_turns) % len(aliases)
    now = time.monotonic()
    return [alias for alias in aliases[first:] + aliases[:first] if _failed_until.get(alias, 0.0) <= now]


def _close(alias: str) -> None:
    """Close the alias's connection (a broken one is not reused when the replica is tried again)."""
    try:
        connections[alias].close()
    except DatabaseError:
        pass


def _fail(alias: str, reason: Exception) -> None:
    _failed_until[alias] = time.monotonic() + settings.REPORTING_REPLICA_RETRY_SECONDS
    _close(alias)
    logger.warning(
        "reporting replica %s skipped for %g s: %s",
        replica_name(alias),
        settings.REPORTING_REPLICA_RETRY_SECONDS,
        str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__,
    )


def serving(read: Callable[[str], T], *, replicas: bool = True) -> T:
    """read(alias) on the first replica that may answer, else on the primary. `read` must check the replica's
    position first (reporting.freshness.figures_state does) and may raise NotServing; a DatabaseError on a replica
    sends the read to the next one. Errors of the primary are the caller's (the reporting database is down).
    `replicas=False`: the primary only (a page that must show what was just written)."""
    for alias in _candidates() if replicas else []:
        try:
            return read(alias)
        except NotInRecovery as refused:
            logger.error("%s", refused)
            _fail(alias, refused)
        except NotServing as behind:
            logger.info("%s: read from another database", behind)
        except DatabaseError as failed:
            _fail(alias, failed)
    return read(READ_ALIAS)


def positions() -> dict[str, Position | None]:
    """Every replica's position by name, for health and metrics (None: it does not answer, or is not a replica)."""
    found: dict[str, Position | None] = {}
    for alias in replica_aliases():
        try:
            found[replica_name(alias)] = position(alias)
        except (DatabaseError, NotInRecovery):
            found[replica_name(alias)] = None
            _close(alias)
    return found
