"""Searching by words: the one loop every search box of the site uses.

A query is split into words; a row matches when every word is found in one of
the given fields. Both sides are *folded* first, so that the way a word was
typed does not matter:

- NFKC: full-width ``ｋｉｎｔｏｎｅ`` is ``kintone``, half-width ``ｸﾗｳﾄﾞ`` is
  ``クラウド`` (the voiced mark joins its kana), ``①`` is ``1``;
- lower case: ``Kintone`` is ``kintone``;
- hiragana is katakana: ``くらうど`` is ``クラウド``.

The column side is folded in the database, by the same rules: on PostgreSQL
with ``normalize(…, NFKC)``, ``lower`` and ``translate``; on SQLite with a
function registered on the connection (``cj_fold``, this module's
``fold``). Nothing extra is stored, so no row can hold a stale folded copy.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db.models import Func, Model, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce

#: ぁ..ゖ (U+3041..U+3096) and the katakana at the same offset (U+30A1..U+30F6).
HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097))
KATAKANA = "".join(chr(c + 0x60) for c in range(0x3041, 0x3097))
_KANA = str.maketrans(HIRAGANA, KATAKANA)


def fold(text: str | None) -> str | None:
    """``text`` as the search compares it (None stays None, as in SQL)."""
    if text is None:
        return None
    return unicodedata.normalize("NFKC", str(text)).lower().translate(_KANA)


class Fold(Func):
    """``fold()`` of a column, computed by the database."""

    function = "cj_fold"
    output_field = TextField()

    def __init__(self, expression, **extra):
        super().__init__(Coalesce(expression, Value("")), **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template=(
                f"translate(lower(normalize(%(expressions)s, NFKC)), '{HIRAGANA}', '{KATAKANA}')"
            ),
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # Registered on the connection the query will run on (cheap, idempotent).
        connection.ensure_connection()
        connection.connection.create_function("cj_fold", 1, fold, deterministic=True)
        return self.as_sql(compiler, connection, **extra_context)


M = TypeVar("M", bound=Model)


def words(q: str | None) -> list[str]:
    """The folded words of a query (full-width spaces separate words too)."""
    return [w for w in (fold(q) or "").split() if w]


def search_words(
    qs: QuerySet[M],
    q: str | None,
    fields: Iterable[str],
    *,
    extra: Callable[[str], Q] | None = None,
) -> QuerySet[M]:
    """Rows of ``qs`` in which every word of ``q`` is found in one of ``fields``
    (width, case and kana folded). ``extra(raw_word)`` adds conditions of its
    own for each word, e.g. an exact ID or an address prefix."""
    fields = list(fields)
    raw_words = (unicodedata.normalize("NFKC", q or "")).split()
    if not raw_words:
        return qs
    qs = qs.alias(**{_alias(f): Fold(f) for f in fields})
    for raw in raw_words:
        word = fold(raw) or ""
        condition = Q()
        for f in fields:
            condition |= Q(**{f"{_alias(f)}__contains": word})
        if extra is not None:
            condition |= extra(raw)
        qs = qs.filter(condition)
    return qs


def _alias(field: str) -> str:
    return "_folded_" + field.replace("__", "_")
