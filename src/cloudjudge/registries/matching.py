"""Linking a service record to a registry entry.

A service matches an entry, in this order of preference:

1. by registration number / service code (``normalise_number``), when given;
2. by normalised service name and normalised provider;
3. by normalised service name alone, when every entry of that name has the
   same normalised provider (a name shared by two providers matches nothing).

Where one key finds several entries (a re-registration next to a withdrawn
one), an entry that is not withdrawn wins, then the latest audit-period end,
then the latest registration date.

Names are normalised by NFKC (full-width → half-width, ㈱ → (株)), case folding,
dropping long-vowel marks, hyphens and dashes (ー‐－―-, so サーバー = サーバ),
spaces and punctuation. Providers also lose their corporate designators
wherever they stand (株式会社, (株), 有限会社, 合同会社, 一般社団法人, …) and
trailing Latin ones (Inc., Co., Ltd., Corporation, K.K., G.K., LLC, …).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

from cloudjudge.registries.entries import RegistryEntry, RegistryKind, normalise_number

MatchMethod = Literal["number", "name_provider", "name"]

_DROP = re.compile(r"[\W_\u30fc]+")
_CORPORATE_JA = re.compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社"
    r"|一般社団法人|一般財団法人|公益社団法人|公益財団法人|特定非営利活動法人"
    r"|地方独立行政法人|独立行政法人|国立研究開発法人"
    r"|\((?:株|有|同|資|名|社|財|一社|一財|公社|公財|特非|独)\)"
)
_CORPORATE_EN = re.compile(
    r"(?:[\s,.]*\b(?:co|inc|incorporated|ltd|limited|llc|l\.l\.c|corp|corporation|company"
    r"|k\.?\s?k|g\.?\s?k|gmbh|plc|pte)\b\.?)+[\s,.]*$"
)


@lru_cache(maxsize=131072)
def normalise_name(text: str) -> str:
    """A service name reduced for comparison (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _DROP.sub("", folded)


@lru_cache(maxsize=131072)
def normalise_provider(text: str) -> str:
    """A provider name reduced for comparison, without corporate designators."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _CORPORATE_JA.sub(" ", folded)
    folded = _CORPORATE_EN.sub("", folded)
    return _DROP.sub("", folded)


@dataclass(frozen=True, slots=True)
class Match:
    """The entry a service was linked to, and how."""

    entry: RegistryEntry
    method: MatchMethod


def _recency(entry: RegistryEntry) -> tuple[bool, date, date, str]:
    return (
        not (entry.withdrawn or entry.lapsed),
        entry.audit_period_end or date.min,
        entry.registered_on or date.min,
        entry.number,
    )


def _best(candidates: list[RegistryEntry]) -> RegistryEntry:
    return max(candidates, key=_recency) if len(candidates) > 1 else candidates[0]


class RegistryIndex:
    """Entries indexed once by number and by normalised names, for fast lookups.

    Build it from every entry of the current snapshots (any mix of kinds) and
    call ``find`` / ``lookup`` per service; pass ``kind`` to look in one list.
    """

    def __init__(self, entries: Iterable[RegistryEntry]):
        self._entries: list[RegistryEntry] = list(entries)
        self._by_number: dict[str, list[RegistryEntry]] = defaultdict(list)
        self._by_name_provider: dict[tuple[str, str], list[RegistryEntry]] = defaultdict(list)
        self._by_name: dict[str, list[RegistryEntry]] = defaultdict(list)
        self._provider_key: dict[int, str] = {}
        for entry in self._entries:
            self._by_number[normalise_number(entry.number)].append(entry)
            name = normalise_name(entry.service_name)
            provider = normalise_provider(entry.provider)
            self._provider_key[id(entry)] = provider
            if name:
                self._by_name_provider[(name, provider)].append(entry)
                self._by_name[name].append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[RegistryEntry]:
        return iter(self._entries)

    @staticmethod
    def _of_kind(found: list[RegistryEntry] | None, kind: str | None) -> list[RegistryEntry]:
        if not found:
            return []
        return found if kind is None else [e for e in found if e.kind == kind]

    def find(
        self,
        service_name: str = "",
        provider: str = "",
        *,
        number: str | None = None,
        kind: RegistryKind | None = None,
    ) -> Match | None:
        """The entry for a service, with how it was matched; ``None`` if none or ambiguous."""
        if number:
            found = self._of_kind(self._by_number.get(normalise_number(number)), kind)
            if found:
                return Match(_best(found), "number")
        name = normalise_name(service_name) if service_name else ""
        if not name:
            return None
        by_provider = normalise_provider(provider) if provider else ""
        if by_provider:
            found = self._of_kind(self._by_name_provider.get((name, by_provider)), kind)
            if found:
                return Match(_best(found), "name_provider")
        found = self._of_kind(self._by_name.get(name), kind)
        if found and len({self._provider_key[id(e)] for e in found}) == 1:
            return Match(_best(found), "name")
        return None

    def lookup(
        self,
        service_name: str = "",
        provider: str = "",
        *,
        number: str | None = None,
        kind: RegistryKind | None = None,
    ) -> RegistryEntry | None:
        """The entry for a service, or ``None`` (see ``find``)."""
        found = self.find(service_name, provider, number=number, kind=kind)
        return None if found is None else found.entry


def match(
    service_name: str,
    provider: str,
    entries: Iterable[RegistryEntry],
    *,
    number: str | None = None,
    kind: RegistryKind | None = None,
) -> RegistryEntry | None:
    """One-off ``RegistryIndex(entries).lookup(...)``; build a ``RegistryIndex``
    instead when looking up many services."""
    return RegistryIndex(entries).lookup(service_name, provider, number=number, kind=kind)
