"""Lists that hold a council's caseload: a page of rows, the total, sorting and filters, all
done by the database (LIMIT/OFFSET and COUNT), never by loading every row into Python.

``Listing`` is what a list page was asked for, read from the query string with every value
checked against what the page offers (an unknown sort or a bad date is a 400 naming it);
``Page`` is one page of rows with the total and the links to the others, each keeping the
filters.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import urlencode

from workers.errors import BadInputError
from workers.store.search import contains, escape_like
from workers.web.form_dates import form_day

__all__ = ["Listing", "Page", "Part", "contains", "escape_like", "fetch_part", "part_of",
           "read_listing"]

T = TypeVar("T")
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_SIZE = 50
MAX_SEARCH = 60


@dataclass(frozen=True)
class Listing:
    """One list request: page, size, sort key and direction, filters (all checked)."""

    page: int = 1
    size: int = DEFAULT_SIZE
    sort: str = ""
    descending: bool = False
    filters: Mapping[str, str] = field(default_factory=dict)
    default_size: int = DEFAULT_SIZE  # left out of links when it is the page's own

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def get(self, name: str) -> str:
        return self.filters.get(name, "")

    def day(self, name: str) -> dt.date | None:
        value = self.get(name)
        return dt.date.fromisoformat(value) if value else None

    def query(self, **changes: object) -> str:
        """This listing's query string with ``changes`` (page, sort, ...), for a link."""
        params: dict[str, object] = {**self.filters, "sort": self.sort,
                                     "dir": "desc" if self.descending else "asc",
                                     "size": self.size, "page": self.page}
        params.update(changes)
        if params.get("size") == self.default_size:
            params.pop("size")
        if params.get("page") == 1:
            params.pop("page")
        return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    def sort_link(self, key: str) -> str:
        """Sorting by ``key``: ascending first, the other way when already sorted by it."""
        flip = self.sort == key and not self.descending
        return self.query(sort=key, dir="desc" if flip else "asc", page=1)

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return "none"
        return "descending" if self.descending else "ascending"


def read_listing(params: Mapping[str, str], *, sorts: Sequence[str], default_sort: str,
                 choices: Mapping[str, Sequence[str]] | None = None,
                 dates: Sequence[str] = (), texts: Sequence[str] = (),
                 default_size: int = DEFAULT_SIZE) -> Listing:
    """The listing a query string asks for; BadInputError naming the parameter if it is not
    one the page offers. ``choices``: filters with a fixed set of values; ``dates``: ISO dates;
    ``texts``: free text (a search box), trimmed and capped."""
    def number(name: str, default: int) -> int:
        raw = params.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit() or int(raw) < 1:
            raise BadInputError(f"{name}: expected a whole number of 1 or more, got {raw[:20]!r}")
        return int(raw)

    size = number("size", default_size)
    if size not in PAGE_SIZES:
        raise BadInputError(f"size: expected one of {', '.join(map(str, PAGE_SIZES))}")
    page = min(number("page", 1), 10**6)
    sort = params.get("sort", "").strip() or default_sort
    if sort not in sorts:
        raise BadInputError(f"sort: expected one of {', '.join(sorts)}, got {sort[:30]!r}")
    direction = params.get("dir", "asc").strip() or "asc"
    if direction not in ("asc", "desc"):
        raise BadInputError("dir: expected asc or desc")
    filters: dict[str, str] = {}
    for name, allowed in (choices or {}).items():
        value = params.get(name, "").strip()
        if value and value not in allowed:
            raise BadInputError(f"{name}: expected one of {', '.join(allowed)}, "
                                f"got {value[:40]!r}")
        if value:
            filters[name] = value
    for name in dates:
        value = params.get(name, "").strip()
        if value:
            form_day(value, name)
            filters[name] = value
    for name in texts:
        value = " ".join(params.get(name, "").split())[:MAX_SEARCH]
        if not value.isprintable():  # a NUL, say: PostgreSQL refuses it in any text
            raise BadInputError(f"{name}: only letters, digits and punctuation can be "
                                "searched for")
        if value:
            filters[name] = value
    return Listing(page, size, sort, direction == "desc", filters, default_size)


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    listing: Listing

    @property
    def number(self) -> int:
        return self.listing.page

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.listing.size))

    @property
    def first_row(self) -> int:
        return self.listing.offset + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return self.listing.offset + len(self.rows)

    @property
    def previous(self) -> str | None:
        page = min(self.listing.page, self.pages) - 1
        return self.listing.query(page=page) if page >= 1 else None

    @property
    def next(self) -> str | None:
        page = self.listing.page + 1
        return self.listing.query(page=page) if page <= self.pages else None


@dataclass(frozen=True)
class Part(Generic[T]):
    """One page of a short list already worked out in Python (a caseload's children, the
    overdue items the deadline rules find), for a page that shows several lists: each pages by
    its own parameter (``name``) and its links keep the others'. Drawn by ``_pager.html``."""

    rows: list[T]
    total: int
    number: int
    size: int
    name: str
    params: tuple[tuple[str, str], ...]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_row(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return (self.number - 1) * self.size + len(self.rows)

    def _link(self, number: int) -> str:
        params = [(k, v) for k, v in self.params if k != self.name]
        if number > 1:
            params.append((self.name, str(number)))
        return "?" + urlencode(params) + f"#{self.name}"

    @property
    def previous(self) -> str | None:
        return self._link(self.number - 1) if self.number > 1 else None

    @property
    def next(self) -> str | None:
        return self._link(self.number + 1) if self.number < self.pages else None


def part_of(items: Sequence[T], params: Mapping[str, str], name: str,
            size: int = DEFAULT_SIZE) -> Part[T]:
    """The page of ``items`` that ``params[name]`` asks for (a number past the end: the last)."""
    return fetch_part(params, name, len(items),
                      lambda start, count: list(items[start:start + count]), size)


def fetch_part(params: Mapping[str, str], name: str, total: int,
               fetch: Callable[[int, int], list[T]], size: int = DEFAULT_SIZE) -> Part[T]:
    """The page ``params[name]`` asks for of ``total`` rows, read by ``fetch(offset, limit)``
    (an SQL OFFSET/LIMIT, or a slice)."""
    raw = params.get(name, "").strip() or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise BadInputError(f"{name}: expected a whole number of 1 or more, got {raw[:20]!r}")
    number = min(int(raw), max(1, math.ceil(total / size)))
    return Part(fetch((number - 1) * size, size), total, number, size, name,
                tuple(params.items()))
