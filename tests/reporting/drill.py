"""Following the dashboard's count links: each link's staff list (and the complaints API with the same query) must
hold exactly as many complaints as the count it is the link of."""

import html
import re

from reporting import figures

LINK = re.compile(r'<a href="(/complaints/\?[^"]+)" data-drill="([^"]+)"[^>]*>(\d+)</a>')
LIST_COUNT = re.compile(r"· (\d+) complaints")


def dashboard_links(page: str) -> list[tuple[str, str, int]]:
    """(what, href, count shown) of every count link on a dashboard page."""
    return [(what, html.unescape(href), int(n)) for href, what, n in LINK.findall(page)]


def links_expected(data: figures.FigureSet, agents_shown: int = 20) -> int:
    """How many count links the declarations promise for these figures: one per non-zero count."""
    total = 0
    for name, figure in figures.FIGURES.items():
        rows = [None] if figure.row is None else getattr(data, name)
        if name == "agents":
            rows = rows[:agents_shown]
        for column in figure.drill:
            total += sum(1 for row in rows if (data.kpis[column].value if row is None else getattr(row, column)))
    return total


def lists_that_disagree(client, links) -> list[str]:
    """One line per link whose staff list or API list holds another number of complaints than its count."""
    lines = []
    for what, href, shown in links:
        page = client.get(href)
        listed = LIST_COUNT.search(page.content.decode())
        in_list = int(listed.group(1)) if listed else None
        api = client.get("/api/complaints/" + href[href.index("?") :])
        in_api = api.json().get("count") if api.status_code == 200 else f"HTTP {api.status_code}"
        if (page.status_code, in_list, in_api) != (200, shown, shown):
            lines.append(f"{what} {href}: shows {shown}, list {page.status_code} {in_list}, API {in_api}")
    return lines
