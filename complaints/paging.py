"""Paging of the staff list and the complaints API without counting every matching complaint on every page."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, overload

from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Exact up to here; past it a page says "more than 1000" and paging goes on as long as pages are full.
COUNT_CAP = 1_000


@contextmanager
def planner_settings(using: str, settings: tuple[str, ...]):
    """Run the block with these planner settings (e.g. "enable_indexscan = off"), in a transaction of its own."""
    if not settings:
        yield
        return
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("; ".join(f"SET LOCAL {setting}" for setting in settings))
        yield
        # Inside an outer transaction, SET LOCAL would outlive this block. (On an error the block's savepoint
        # is rolled back, which undoes the settings too; a reset there would only hide the error.)
        names = (setting.split("=")[0].strip() for setting in settings)
        cursor.execute("; ".join(f"SET LOCAL {name} TO DEFAULT" for name in names))


class CountedQuerySet(QuerySet):
    """A queryset that may carry how many rows it is known to hold at least, proven by whoever built it (the
    search proves "more than COUNT_CAP" on its way), so a page's capped count need not prove it again. The
    knowledge belongs to exactly the rows it was proven for: a further filter, which changes the query's
    rows, discards it; an ordering keeps it.

    It may also carry planner settings to run under (`planned`): the search knows how many rows match better
    than PostgreSQL's guess for '%term%', and so which plan reads fewer rows."""

    _known: tuple[str, int] | None = None
    _planner: tuple[str, ...] = ()

    # Django's own cloning methods (undeclared in its type stubs): every queryset method derives from them.
    def _clone(self):
        clone = super()._clone()  # type: ignore[misc]
        clone._known, clone._planner = self._known, self._planner
        return clone

    def planned(self, *settings: str) -> "CountedQuerySet":
        clone = self._chain()  # type: ignore[attr-defined]
        clone._planner = settings
        return clone

    def _fetch_all(self):
        with self._under_planner():
            super()._fetch_all()

    def count(self) -> int:
        with self._under_planner():
            return super().count()

    def _under_planner(self):
        return planner_settings(self.db, self._planner if self._result_cache is None else ())  # cached: no query

    def knowing_at_least(self, rows: int) -> "CountedQuerySet":
        clone = self._chain()  # type: ignore[attr-defined]
        clone._known = (clone._rows_key(), rows)
        return clone

    def known_at_least(self) -> int:
        if self._known is None or self.query.is_sliced:
            return 0
        key, rows = self._known
        return rows if key and key == self._rows_key() else 0

    def _rows_key(self) -> str:
        try:
            sql, params = self.order_by().values_list("pk").query.sql_with_params()
        except EmptyResultSet:  # e.g. .none(): no rows, nothing known
            return ""
        return f"{sql} {params!r}"


def capped_count(rows, limit: int) -> int:
    """How many rows there are, counting no further than `limit` (reads at most `limit` index entries)."""
    if isinstance(rows, QuerySet):
        if isinstance(rows, CountedQuerySet) and rows.known_at_least() >= limit:
            return limit
        return rows.order_by()[:limit].count()
    return rows.capped_count(limit)


class GroupedRows:
    """Rows of several querysets one after the other, sliced without reading the groups before the slice.

    Sorting by a related row's name (category, assignee) as one query would sort every matching complaint
    before the first page. Each group is one related row, in name order, read through its (column, id)
    index; a slice counts the groups it skips (each count capped at the slice's end) and reads only its rows.

    What a Paginator needs, like a QuerySet: len, count() (not a Sequence's count(value)), indexing, iteration.
    """

    def __init__(self, groups: list[QuerySet]):
        self.groups = groups

    def capped_count(self, limit: int) -> int:
        total = 0
        for group in self.groups:
            if total >= limit:
                break
            total += capped_count(group, limit - total)
        return total

    def count(self) -> int:
        return sum(group.count() for group in self.groups)

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Any]:
        for group in self.groups:
            yield from group

    @overload
    def __getitem__(self, item: int) -> Any: ...
    @overload
    def __getitem__(self, item: slice) -> list[Any]: ...
    def __getitem__(self, item: int | slice) -> Any:
        if isinstance(item, int):
            if item < 0:
                raise IndexError("GroupedRows takes no negative index")
            one = self[item : item + 1]
            if not one:
                raise IndexError("GroupedRows index out of range")
            return one[0]
        if item.step not in (None, 1):
            raise TypeError("GroupedRows supports plain slices only")
        skip, wanted = item.start or 0, (item.stop or 0) - (item.start or 0)
        rows: list = []
        for group in self.groups:
            if len(rows) >= wanted:
                break
            need = wanted - len(rows)
            in_group = capped_count(group, skip + need)
            if in_group <= skip:
                skip -= in_group
                continue
            rows += list(group[skip : skip + need])
            skip = 0
        return rows


class CappedPage(Page):
    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class CappedPaginator(Paginator):
    """A paginator whose count stops after `cap` rows: an exact count would read every matching complaint
    (a million in a large tenant) for each page shown, while the page itself reads only its own rows.
    Past the cap there is a next page while the current one is full (one row more is read to know)."""

    cap = COUNT_CAP

    def __init__(self, object_list, per_page, *args, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        if cap is not None:
            self.cap = cap

    @cached_property
    def count(self) -> int:
        return capped_count(self.object_list, self.cap + 1)

    @property
    def count_capped(self) -> bool:
        return self.count > self.cap

    def validate_number(self, number):
        if not self.count_capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)
