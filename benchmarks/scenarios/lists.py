"""Benchmark scenario: the staff list (HTML) and the complaints API at the benchmark's size.

Every search, filter and sort a member of staff uses, page 1 (and a deeper page), measured in-process through
the full Django stack (middleware, tenant, view, template or serializer), warm, beside the dashboard page of
the same run. Called by benchmarks.run for each size.
"""

from urllib.parse import quote

from benchmarks.stats import summary_ms, timed
from benchmarks.tenant import DOMAIN, SCHEMA


def _actions(sample) -> dict[str, str]:
    """Name -> path. `sample` is one existing complaint (its reference and customer e-mail are searched)."""
    email_local = sample.customer_email.split("@")[0]
    html = {
        "list, newest first": "/complaints/",
        "list, page 20": "/complaints/?page=20",
        "search exact reference": f"/complaints/?q={sample.reference.lower()}",
        "search customer e-mail (rare)": f"/complaints/?q={email_local}",
        "search whole customer e-mail": f"/complaints/?q={quote(sample.customer_email)}",
        "search surname (common)": f"/complaints/?q={sample.customer_name.split()[-1]}",
        "search title word (common)": "/complaints/?q=refund",
        "search a word matching nothing": "/complaints/?q=zzqqxxw",
        "filter open": "/complaints/?status=open",
        "filter closed+urgent+category": f"/complaints/?status=closed&priority=urgent&category={sample.category_id}",
        "filter unassigned": "/complaints/?assignee=none",
        "filter mine": "/complaints/?assignee=me",
        "sort status": "/complaints/?sort=status",
        "sort -status": "/complaints/?sort=-status",
        "sort priority": "/complaints/?sort=-priority",
        "sort title": "/complaints/?sort=title",
        "sort updated": "/complaints/?sort=-updated",
        "sort category": "/complaints/?sort=category",
        "sort assignee": "/complaints/?sort=assignee",
        "sort -assignee, page 20": "/complaints/?sort=-assignee&page=20",
        "filter open, sort priority": "/complaints/?status=open&sort=-priority",
    }
    api = {
        "api list": "/api/complaints/",
        "api search exact reference": f"/api/complaints/?search={sample.reference}",
        "api search customer e-mail (rare)": f"/api/complaints/?search={email_local}",
        "api search whole customer e-mail": f"/api/complaints/?search={quote(sample.customer_email)}",
        "api search title word (common)": "/api/complaints/?search=refund",
        "api ordering priority": "/api/complaints/?ordering=priority",
        "api ordering status, page 3": "/api/complaints/?ordering=status&page=3",
        "api ordering -updated_at": "/api/complaints/?ordering=-updated_at",
        "api ordering assignee": "/api/complaints/?ordering=assignee",
        "api filter status + priority": "/api/complaints/?status=new&priority=urgent",
    }
    return {**html, **api}


def bench_staff_lists(agent, reps: int) -> dict:
    from django.test import Client
    from django_tenants.utils import schema_context
    from rest_framework.test import APIClient

    from complaints.models import Complaint

    with schema_context(SCHEMA):
        count = Complaint.objects.count()
        sample = Complaint.objects.order_by("id")[count // 2]
        html, api = Client(HTTP_HOST=DOMAIN), APIClient(HTTP_HOST=DOMAIN)
        html.force_login(agent)
        api.force_authenticate(agent)
        results = {}
        for name, path in _actions(sample).items():
            client = api if name.startswith("api") else html

            def get(path=path, client=client):
                response = client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"benchmark: {path} answered {response.status_code}")

            results[name] = summary_ms(timed(get, reps, warmup=2))
    worst = max(results.items(), key=lambda item: item[1]["p95_ms"])
    return {"complaints": count, "actions": results, "worst_p95": {"action": worst[0], "p95_ms": worst[1]["p95_ms"]}}


def table_rows(report: dict) -> list[tuple]:
    """Each action's p50 / p95 per size, with the same run's dashboard page p95 beside it."""
    sizes = [(size, e) for size, e in report["sizes"].items() if "staff_lists" in e]
    if not sizes:
        return []
    rows = [("staff list / API action (ms p50 / p95)", *(f"{size} complaints" for size, _ in sizes))]
    for name in sizes[0][1]["staff_lists"]["actions"]:
        cells = [e["staff_lists"]["actions"][name] for _, e in sizes]
        rows.append((name, *(f"{c['p50_ms']} / {c['p95_ms']}" for c in cells)))
    rows.append(("worst p95", *(str(e["staff_lists"]["worst_p95"]["p95_ms"]) for _, e in sizes)))
    rows.append(
        ("dashboard page p95, same run", *(str(e["dashboard_180d"]["page_read_models"]["p95_ms"]) for _, e in sizes))
    )
    return rows
