"""One entry of a public registry: ISMAP, ISMAP-LIU or LGWAN-ASP.

``RegistryEntry`` is what the spreadsheet reader produces, what the matcher
links service records to, what the expiry rule reads and what a snapshot diff
compares. It is a plain frozen value: the web layer maps its database model to
and from it with ``as_dict`` / ``from_dict``.

Equality compares the registry's content only; where the entry was read from
(``source_sheet``, ``source_row``) is carried along but never compared.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Literal, get_args

RegistryKind = Literal["ismap", "ismap_liu", "lgwan_asp"]

#: Every kind, in display order. The names match ``Service.listings`` of the engine.
KINDS: tuple[RegistryKind, ...] = get_args(RegistryKind)

#: How each kind is written for people.
KIND_LABELS: dict[str, str] = {
    "ismap": "ISMAP",
    "ismap_liu": "ISMAP-LIU",
    "lgwan_asp": "LGWAN-ASP",
}

#: Kinds whose registrations expire by ISMAP基本規程 3.5.
EXPIRING_KINDS: frozenset[str] = frozenset({"ismap", "ismap_liu"})


_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2043\ufe58\ufe63\u30fc\uff70]")
_SPACES = re.compile(r"\s+")


def normalise_number(value: object) -> str:
    """A registration number or service code as stored and compared: NFKC
    (full-width → half-width), no spaces, every dash and long-vowel mark as
    ``-``, upper case; an integral number from a spreadsheet without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    return _DASHES.sub("-", _SPACES.sub("", text)).upper()


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One service on one public list.

    ``number`` is the registration number for ISMAP and ISMAP-LIU
    (``C21-0008-2``) and the service code for LGWAN-ASP; with ``kind`` it is
    the entry's identity. It is stored normalised (``normalise_number``:
    full-width ``C21-0008-2`` becomes half-width). An ISMAP or ISMAP-LIU entry
    that is not withdrawn or lapsed has an ``audit_period_end`` (監査対象期間の末日):
    its expiry is computed from it.
    """

    kind: RegistryKind
    number: str
    service_name: str
    provider: str
    registered_on: date | None = None
    audit_period_end: date | None = None
    renewal_pending: bool = False
    withdrawn: bool = False
    source_url: str = ""
    #: The registration lapsed (失効) or is suspended (一時停止), as the list says.
    lapsed: bool = False
    suspended: bool = False
    #: The day the list gives for a withdrawal, lapse or suspension: it counts from
    #: then on (``None``: whatever the day).
    status_since: date | None = None
    #: The day a pending renewal was applied for, where the list gives it
    #: (ISMAP基本規程 3.5: valid past the expiry only if applied for by then).
    renewal_applied_on: date | None = None
    category: str = ""
    regions: tuple[str, ...] = ()
    source_sheet: str = field(default="", compare=False, repr=False)
    source_row: int | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"未知の登録簿の種類です: {self.kind!r}（{', '.join(KINDS)}）")
        number = normalise_number(self.number)
        if not number:
            raise ValueError("登録番号（サービスコード）が空です")
        if number != self.number:
            object.__setattr__(self, "number", number)
        ended = self.withdrawn or self.lapsed
        if self.kind in EXPIRING_KINDS and self.audit_period_end is None and not ended:
            raise ValueError(
                f"{KIND_LABELS[self.kind]} の登録 {self.number} には監査対象期間の末日が必要です"
            )

    @property
    def key(self) -> tuple[str, str]:
        """The identity of the entry across snapshots: (kind, number)."""
        return (self.kind, self.number)

    def as_dict(self) -> dict[str, Any]:
        """The content fields as JSON-friendly values (dates as ISO strings)."""
        out: dict[str, Any] = {}
        for name in CONTENT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistryEntry:
        """The inverse of ``as_dict``; also accepts ``date`` objects and extra keys
        ``source_sheet`` / ``source_row``."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in DATE_FIELDS and isinstance(value, str):
                value = date.fromisoformat(value) if value else None
            elif f.name == "regions":
                value = tuple(value or ())
            values[f.name] = value
        return cls(**values)


#: The fields holding a date.
DATE_FIELDS = frozenset({"registered_on", "audit_period_end", "status_since", "renewal_applied_on"})

#: The fields that make up an entry's content, in display order. A snapshot diff
#: compares these; ``source_sheet`` and ``source_row`` are not among them.
CONTENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RegistryEntry) if f.compare)

#: Japanese labels of the content fields, for diffs and forms.
FIELD_LABELS: dict[str, str] = {
    "kind": "種類",
    "number": "登録番号／サービスコード",
    "service_name": "サービス名称",
    "provider": "事業者",
    "registered_on": "登録日",
    "audit_period_end": "監査対象期間の末日",
    "renewal_pending": "更新申請中",
    "withdrawn": "取下げ・登録取消",
    "source_url": "URL",
    "category": "区分",
    "regions": "リージョン",
    "lapsed": "失効",
    "suspended": "一時停止",
    "status_since": "状態の日付",
    "renewal_applied_on": "更新申請日",
}
