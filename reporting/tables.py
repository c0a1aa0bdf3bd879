"""The read-model tables as the projector and the set-based SQL see them: name, key columns, value columns."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadTable:
    kind: str  # the first element of a contributions() key
    name: str
    keys: tuple[str, ...]
    values: tuple[str, ...]

    def upsert_sql(self) -> str:
        cols = self.keys + self.values
        placeholders = ", ".join(["%s"] * len(cols))
        updates = ", ".join(f"{v} = t.{v} + EXCLUDED.{v}" for v in self.values)
        return (
            f"INSERT INTO {self.name} AS t ({', '.join(cols)}) VALUES ({placeholders}) "
            f"ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET {updates}"
        )


READ_TABLES = (
    ReadTable(
        "stats",
        "complaint_stats_by_day",
        ("day", "category_id", "priority"),
        (
            "created_count",
            "resolved_count",
            "resolved_within_target",
            "resolution_seconds_sum",
            "first_response_count",
            "first_response_seconds_sum",
        ),
    ),
    ReadTable(
        "agent",
        "agent_performance_summary",
        ("day", "agent_id", "category_id", "priority"),
        (
            "assigned_count",
            "resolved_count",
            "reopened_count",
            "resolution_seconds_sum",
            "first_response_count",
            "first_response_seconds_sum",
        ),
    ),
    ReadTable(
        "agent_day",
        "agent_daily_summary",
        ("day", "agent_id"),
        (
            "assigned_count",
            "resolved_count",
            "reopened_count",
            "resolution_seconds_sum",
            "first_response_count",
            "first_response_seconds_sum",
        ),
    ),
    ReadTable("workload", "agent_workload", ("agent_id", "category_id", "priority"), ("open_count",)),
    ReadTable("backlog", "open_backlog_by_day", ("created_day", "category_id", "priority"), ("open_count",)),
    ReadTable(
        "category", "complaint_category_distribution", ("category_id", "priority"), ("total", "open", "resolved")
    ),
    ReadTable("status", "complaint_status_counts", ("status", "category_id", "priority"), ("count",)),
)
READ_TABLES_BY_KIND = {t.kind: t for t in READ_TABLES}
