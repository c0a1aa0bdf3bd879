"""The dashboard at a real help desk's size: top 10 + Other, shortened names, honest small shares, unclipped
values, a sortable and foldable category table, the top 20 agents with "Show all"."""

import re

import pytest
from django_tenants.utils import schema_context

from reporting.charts import bar_list, share_text, shorten, text_width, top_and_other


def test_small_shares_read_below_a_tenth_of_a_percent_never_zero():
    assert [share_text(n, s) for n, s in ((3, 0.0), (0, 0.0), (5, 0.1), (2619, 15.3), (9, 100.0))] == [
        "<0.1%",
        "0.0%",
        "0.1%",
        "15.3%",
        "100.0%",
    ]


def test_top_ten_and_one_other_row_summing_the_rest():
    rows = [(f"c{i:02d}", 100 - i, 0.0) for i in range(14)]  # 1,309 complaints
    top = top_and_other(rows)
    assert [name for name, _, _ in top] == [f"c{i:02d}" for i in range(10)] + ["Other (4 categories)"]
    assert top[-1][1:] == (90 + 89 + 88 + 87, round(100 * 354 / 1309, 1))
    eleven = rows[:11]
    assert top_and_other(eleven) == eleven  # a lone leftover keeps its own name


def test_long_names_are_shortened_by_width_with_an_ellipsis():
    assert shorten("Billing", 170) == "Billing"
    latin = shorten("Refund not received after returning a damaged item by courier", 170)
    cjk = shorten("配送の遅延と破損した商品に関するお問い合わせ", 170)
    assert latin == "Refund not received aft…" and cjk == "配送の遅延と破損した商品…"
    assert text_width(latin) <= 170 and text_width(cjk) <= 170


def test_bar_chart_has_a_name_full_names_on_hover_and_no_value_past_its_edge():
    name = "Refund not received after returning a damaged item by <courier>"
    svg = str(bar_list([(name, 26190, 99.9), ("Tiny", 3, 0.0)], name="Complaints by category"))
    assert svg.startswith('<svg viewBox="0 0 420 48" role="img" aria-label="Complaints by category">')
    assert "<title>Refund not received after returning a damaged item by &lt;courier&gt;: 26190 (99.9%)</title>" in svg
    assert "<title>Tiny: 3 (&lt;0.1%)</title>" in svg
    view_box = re.search(r'viewBox="0 0 (\d+)', svg)
    assert view_box
    width = int(view_box.group(1))
    values = re.findall(r'<text class="value" x="([\d.]+)"[^>]*>([^<]+)</text>', svg)
    assert [v for _, v in values] == ["26190 (99.9%)", "3 (&lt;0.1%)"]
    assert all(float(x) + text_width(v.replace("&lt;", "<")) <= width for x, v in values)
    labels = re.findall(r'<text class="label"[^>]*>([^<]+)</text>', svg)
    assert labels == ["Refund not received aft…", "Tiny"]


@pytest.fixture
def thirteen_categories_and_25_agents(committed):
    """Tenant alpha with 13 categories (the last one with a single complaint among thousands) and 25 agents."""
    from complaints import demo_data
    from complaints.bulk import bulk_write
    from complaints.models import Category
    from reporting.rebuild import rebuild_read_models

    with schema_context("alpha"):
        categories = [Category.objects.get_or_create(name=f"Topic {i:02d}")[0] for i in range(12)]
        rare = Category.objects.create(name="Rare")
        agents = demo_data.ensure_agents(25)
        bulk_write(demo_data.generate(count=3000, months=5, categories=categories, agents=agents, seed=16))
        bulk_write(demo_data.generate(count=1, months=1, categories=[rare], agents=agents, seed=1))
        rebuild_read_models()
    return committed["alpha"]


def _table(html: str, testid: str) -> list[list[str]]:
    body = html.split(f'data-testid="{testid}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return [[re.sub(r"<[^>]+>", "", cell) for cell in row] for row in rows]  # a count's text, without its link


def test_dashboard_draws_top_ten_lists_every_category_and_the_top_20_agents(
    thirteen_categories_and_25_agents, client_for
):
    world = thirteen_categories_and_25_agents
    client = client_for(world, world.carol)
    html = client.get("/dashboard/").content.decode()
    chart = html.split('data-testid="card-categories"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<g>") == 11 and ">Other (3 categories)</text>" in chart
    assert 'aria-label="Complaints received by category, the 10 largest of 13;' in chart
    categories = _table(html, "table-categories")
    assert len(categories) == 13
    counts = [int(n) for _, n, *_ in categories]
    assert counts == sorted(counts, reverse=True)  # largest first by default
    assert categories[-1] == ["Rare", "1", "&lt;0.1%", "0", "0.0%"]  # resolved, never reopened
    assert '<details id="categories-table">' in html  # more than 11: folded

    by_name = client.get("/dashboard/?cat_sort=name").content.decode()
    assert [row[0] for row in _table(by_name, "table-categories")] == ["Rare"] + [f"Topic {i:02d}" for i in range(12)]
    assert '<details id="categories-table" open>' in by_name  # just sorted: unfolded
    assert [row[0] for row in _table(client.get("/dashboard/?cat_sort=-name").content.decode(), "table-categories")][
        0
    ] == "Topic 11"

    assert len(_table(html, "table-agents")) == 20
    assert "The top 20 of 25 agents." in html and 'href="?&agents=all#agents"' in html
    every = client.get("/dashboard/?period=180&agents=all").content.decode()
    assert len(_table(every, "table-agents")) == 25 and 'data-testid="agents-more"' not in every
    assert "Show the top 20 only" in every
    csv_rows = client.get("/dashboard/?csv=agents").content.decode().strip().splitlines()
    assert len(csv_rows) == 1 + 25  # the CSV always has every agent
