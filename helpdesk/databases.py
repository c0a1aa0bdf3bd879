"""The two databases' aliases, named once for settings, routers, both sides, the benchmark and the tests.

`default` holds the write side and the public tenant registry; `reporting` holds only the read models, in tenant
schemas of the same names. No imports: the settings read these before Django is set up.
"""

WRITE_ALIAS = "default"  # Django's DEFAULT_DB_ALIAS: where every model the router does not send elsewhere lives
READ_ALIAS = "reporting"
BOTH_ALIASES = (WRITE_ALIAS, READ_ALIAS)


def replica_alias(number: int) -> str:
    """The alias of the `number`-th (from 1) streaming replica of `reporting` (REPORTING_REPLICA_URLS)."""
    return f"{READ_ALIAS}_replica_{number}"
