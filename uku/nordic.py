"""Norwegian collation and case-insensitive search on both databases.

Norwegian sorts Æ, Ø, Å after Z, in that order, and upper- and lower-case together. PostgreSQL
gets this from the ICU collation `nb-NO-x-icu` (the database's own C.UTF-8 would put Å before
Æ and Ø, and every capital before every small letter). SQLite, the default of `make run`, has
neither: `install_sqlite` registers a `nordic` collation and replaces SQLite's LIKE, which
folds only ASCII case (so "ØST" did not find "Østlandet"), with a Unicode-aware one.

Use `nordic("name")` in `order_by()` (and `.desc()` on it) wherever people read names in order.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from functools import lru_cache
from typing import Any

from django.db.models import F, Func

PG_COLLATION = "nb-NO-x-icu"
SQLITE_COLLATION = "nordic"

# Æ, Ø, Å after Z in that order; Ä and Ö sort with Æ and Ø, as in Norwegian dictionaries.
_AFTER_Z = {
    "æ": "z\U0010fff0",
    "ä": "z\U0010fff0",
    "ø": "z\U0010fff1",
    "ö": "z\U0010fff1",
    "å": "z\U0010fff2",
}


@lru_cache(maxsize=4096)
def sort_key(text: str) -> tuple[str, str]:
    """The Norwegian sort key of `text`: letters case-folded, accents off (é with e) except
    the three Norwegian letters, which go after z; ties broken by the text itself."""
    folded = []
    for ch in text.casefold():
        if ch in _AFTER_Z:
            folded.append(_AFTER_Z[ch])
            continue
        base = unicodedata.normalize("NFD", ch)
        folded.append("".join(c for c in base if not unicodedata.combining(c)))
    return "".join(folded), text


def _collate(a: str, b: str) -> int:
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


@lru_cache(maxsize=512)
def _like_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if escape and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL | re.IGNORECASE)


def _like(pattern: Any, value: Any, escape: Any = None) -> bool | None:
    """SQLite's LIKE with Unicode case folding (its own folds only A-Z)."""
    if pattern is None or value is None:
        return None
    return _like_regex(str(pattern).casefold(), escape).fullmatch(str(value).casefold()) is not None


def install_sqlite(connection: sqlite3.Connection) -> None:
    """Register the `nordic` collation and the Unicode LIKE on a new SQLite connection."""
    connection.create_collation(SQLITE_COLLATION, _collate)
    connection.create_function("like", 2, _like, deterministic=True)
    connection.create_function("like", 3, _like, deterministic=True)


def on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver (uku.apps): SQLite connections get the Nordic functions."""
    if connection.vendor == "sqlite":
        install_sqlite(connection.connection)


class nordic(Func):
    """`field` in Norwegian collation, for order_by: ICU on PostgreSQL, `nordic` on SQLite,
    the database's own order elsewhere."""

    template = "%(expressions)s"

    def __init__(self, field: str) -> None:
        super().__init__(F(field))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f'{sql} COLLATE "{PG_COLLATION}"', params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"{sql} COLLATE {SQLITE_COLLATION}", params
