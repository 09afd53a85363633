"""Renewals that change the registration number.

An ISMAP registration renewed under a new number ends in a higher suffix
(``C23-0020-1`` → ``C23-0020-2``); a list may also show the same service of
the same provider under a wholly new number. Compared entry by entry, either
looks like one service leaving the list and another arriving, and every
service linked to the old number would read 「最新のリストに掲載なし」.
``find_renewals`` pairs them instead:

1. **suffix** (ISMAP, ISMAP-LIU): a new entry ``base-n`` renews the entry of
   the same ``base`` with the highest suffix below ``n`` that was on the list
   before (whether it left the list or is still shown beside the new one);
2. **name_provider**: a new entry renews an entry that left the list with the
   same normalised service name and provider, when each side has exactly one
   such entry (never a guess between several).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cloudjudge.registries.entries import EXPIRING_KINDS, RegistryEntry
from cloudjudge.registries.matching import normalise_name, normalise_provider

How = Literal["suffix", "name_provider"]

#: Japanese for how a renewal was recognised.
HOW_LABELS: dict[str, str] = {
    "suffix": "登録番号の枝番が上がった",
    "name_provider": "同じサービス名称・事業者が新しい番号で掲載",
}

_SUFFIX = re.compile(r"^(?P<base>.+)-(?P<n>\d{1,3})$")

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Renewal:
    """``before`` (on the list before) renewed as ``after`` (new in this list)."""

    before: RegistryEntry
    after: RegistryEntry
    how: How

    @property
    def how_label(self) -> str:
        return HOW_LABELS[self.how]


def number_suffix(entry: RegistryEntry) -> tuple[str, int] | None:
    """(base, suffix) of an ISMAP / ISMAP-LIU number such as ``C23-0020-2``."""
    if entry.kind not in EXPIRING_KINDS:
        return None
    m = _SUFFIX.match(entry.number)
    return (m.group("base"), int(m.group("n"))) if m else None


def find_renewals(
    before: Mapping[Key, RegistryEntry],
    after: Mapping[Key, RegistryEntry],
) -> tuple[Renewal, ...]:
    """The renewals between two lists keyed by (kind, number), sorted by the
    new entry's key. Each entry takes part in one renewal at most."""
    added = [after[k] for k in sorted(after.keys() - before.keys())]
    left = {k: e for k, e in before.items() if k not in after}
    renewals: list[Renewal] = []
    used: set[Key] = set()

    by_base: dict[tuple[str, str], list[tuple[int, RegistryEntry]]] = defaultdict(list)
    for entry in before.values():
        split = number_suffix(entry)
        if split is not None:
            by_base[(entry.kind, split[0])].append((split[1], entry))
    pending: list[RegistryEntry] = []
    for entry in added:
        split = number_suffix(entry)
        older = []
        if split is not None:
            base, suffix = split
            older = [
                (n, old)
                for n, old in by_base.get((entry.kind, base), ())
                if n < suffix and old.key not in used
            ]
        if older:
            _, old = max(older, key=lambda pair: pair[0])
            used.add(old.key)
            renewals.append(Renewal(old, entry, "suffix"))
        else:
            pending.append(entry)

    def name_key(entry: RegistryEntry) -> tuple[str, str, str]:
        return (entry.kind, normalise_name(entry.service_name), normalise_provider(entry.provider))

    gone: dict[tuple[str, str, str], list[RegistryEntry]] = defaultdict(list)
    for key, entry in left.items():
        if key not in used:
            gone[name_key(entry)].append(entry)
    arriving: dict[tuple[str, str, str], list[RegistryEntry]] = defaultdict(list)
    for entry in pending:
        arriving[name_key(entry)].append(entry)
    for name, newcomers in arriving.items():
        leavers = gone.get(name, [])
        if name[1] and len(newcomers) == 1 and len(leavers) == 1:
            renewals.append(Renewal(leavers[0], newcomers[0], "name_provider"))
    return tuple(sorted(renewals, key=lambda r: r.after.key))
