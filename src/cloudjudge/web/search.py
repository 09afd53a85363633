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

On PostgreSQL a large table can be searched through an index instead of a
scan (``grams``): a GIN ``pg_trgm`` index over ``cj_bigrams(column)``, the
folded text as its two-character pieces (``会議と`` → `` 会議 議と ``;
register migration ``0008_search_bigram_indexes`` makes the functions and the
indexes). A plain trigram index cannot serve Japanese: most words are two
characters, too short for a trigram. Each word of two characters or more then
also asks for each of its pieces, which the index answers; the folded
``contains`` above still decides. ``related`` searches a small related table
first (e.g. the services) and matches its ids, so that every condition stays
on the large table and the database can combine its indexes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.db import connections
from django.db.models import F, Func, Model, Q, QuerySet, TextField, Value
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


class Bigrams(Func):
    """``cj_bigrams(column)``: the folded text's two-character pieces, each
    between spaces (PostgreSQL only: the function of migration 0008)."""

    function = "cj_bigrams"
    output_field = TextField()


def bigrams(word: str) -> list[str]:
    """The pieces ``cj_bigrams`` holds of a folded word (none under two characters)."""
    return [word[i : i + 2] for i in range(len(word) - 1)]


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
    grams: Iterable[str] = (),
    related: Mapping[str, tuple[QuerySet[Any], Iterable[str]]] | None = None,
) -> QuerySet[M]:
    """Rows of ``qs`` in which every word of ``q`` is found in one of ``fields``
    (width, case and kana folded). ``extra(raw_word)`` adds conditions of its
    own for each word, e.g. an exact ID or an address prefix. ``grams``: the
    fields with a ``cj_bigrams`` index (used on PostgreSQL). ``related``:
    ``{foreign key: (its table's rows, their fields)}``, searched first, one
    query per word (the table must be small: its ids are listed)."""
    fields = list(fields)
    raw_words = (unicodedata.normalize("NFKC", q or "")).split()
    if not raw_words:
        return qs
    indexed = set(grams) if connections[qs.db].vendor == "postgresql" else set()
    qs = qs.alias(**{_alias(f): Fold(f) for f in fields})
    if indexed:
        qs = qs.alias(**{_alias(f) + "_grams": Bigrams(F(f)) for f in indexed})
    for raw in raw_words:
        word = fold(raw) or ""
        condition = Q()
        for f in fields:
            arm = Q(**{f"{_alias(f)}__contains": word})
            if f in indexed:
                for piece in bigrams(word):
                    arm &= Q(**{f"{_alias(f)}_grams__contains": f" {piece} "})
            condition |= arm
        for key, (rows, their_fields) in (related or {}).items():
            ids = list(search_words(rows, raw, their_fields).values_list("pk", flat=True))
            condition |= Q(**{f"{key}__in": ids})
        if extra is not None:
            condition |= extra(raw)
        qs = qs.filter(condition)
    return qs


def _alias(field: str) -> str:
    return "_folded_" + field.replace("__", "_")
