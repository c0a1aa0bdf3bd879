"""The printed table: every figure of a report, read models beside the single-database way where both exist."""

from benchmarks.scenarios import brokers, freshness, health, lists, managers, many_tenants, polling


def print_table(report: dict) -> None:
    rows = [("figure", "size", "read models", "single database", "ratio")]
    for size, e in report["sizes"].items():
        if "managers" in e:
            rows += managers.table_rows(e["managers"], size)
        if "dashboard_180d" not in e:  # a run of some phases only (--only)
            continue
        d = e["dashboard_180d"]
        for q in ("p50", "p95"):
            ratio = d[f"ratio_{q}"]
            rows.append(
                (
                    f"dashboard 180 d {q} (ms)",
                    size,
                    d["read_models"][f"{q}_ms"],
                    d["on_the_fly"][f"{q}_ms"],
                    f"{ratio}x faster" if ratio else "not measured at this size",
                )
            )
        rows.append(("dashboard page p95 (ms, HTML)", size, d["page_read_models"]["p95_ms"], "", ""))
        rows.append(("rebuild all read models (s)", size, e["rebuild"]["seconds"], "", ""))
        if "write_isolation" in e:
            w = e["write_isolation"]
            rows.append(("submit p95 alone (ms)", size, w["alone"]["submit"]["p95_ms"], "", ""))
            for name, label in (("closed_loop", "back to back"), ("paced_1s", "1 view/s each")):
                phase = w[name]
                read, fly = phase["with_read_model_viewers"], phase["with_on_the_fly_viewers"]
                rows.append(
                    (
                        f"submit p95, {w['viewers']} viewers {label} (ms)",
                        size,
                        read["submit"]["p95_ms"],
                        fly["submit"]["p95_ms"],
                        f"{phase['p95_ratio_read_models_vs_alone']}x vs "
                        f"{phase['p95_ratio_on_the_fly_vs_alone']}x alone",
                    )
                )
                rows.append(
                    (
                        f"  viewer requests served, p50 (ms), {label}",
                        size,
                        f"{read['viewer_requests']['n']}, {read['viewer_requests']['p50_ms']}",
                        f"{fly['viewer_requests']['n']}, {fly['viewer_requests']['p50_ms']}",
                        "",
                    )
                )
            staggered = w["paced_1s_staggered"]
            rows.append(
                (
                    f"submit p95, {w['viewers']} viewers 1 view/s, started apart (ms)",
                    size,
                    staggered["with_read_model_viewers"]["submit"]["p95_ms"],
                    "",
                    f"{staggered['p95_ratio_read_models_vs_alone']}x alone",
                )
            )
        if "projection" in e:
            p = e["projection"]
            rows.append(("projector events/s (1 process)", size, p["events_per_second"], "", f"{p['events']} events"))
        if "import" in e:
            imp = e["import"]
            rows.append(("import_complaints rows/s", size, imp["rows_per_second"], "", f"{imp['rows']} rows"))
        rows += brokers.table_rows(size, e)
        rows += freshness.table_rows(size, e)
        if "polling" in e:
            rows += polling.table_rows(e["polling"], size)
    print_rows(rows)
    print_rows(lists.table_rows(report))
    print_rows(many_tenants.table_rows(report.get("many_tenants")))
    if "probes" in report:
        print_rows(health.table_rows(report["probes"]))


def print_rows(rows: list[tuple]) -> None:
    if not rows:
        return
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    print()
    for r in rows:
        print("  ".join(str(v).ljust(widths[i]) for i, v in enumerate(r)))
