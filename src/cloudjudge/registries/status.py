"""Status words in a registry list: a 状態 column, or the notes (備考).

The published lists say what happened to a registration in words, with or
without a date: 「取下げ」, 「2024年5月1日 登録取消」, 「更新申請中（2025/7/20 申請）」,
「失効（令和7年8月1日）」, 「一時停止」. ``read_status`` finds the word and the
date:

* ``withdrawn`` — 取下げ, 取り下げ, 登録取消, 取消, 抹消;
* ``lapsed`` — 失効;
* ``suspended`` — 一時停止, 登録停止, 停止;
* ``renewal_pending`` — 更新申請, 更新手続, 更新審査 (the date is the day the
  renewal was applied for: ISMAP基本規程 3.5 keeps a registration valid past
  its expiry only when the application came by the expiry date);
* ``registered`` — 登録, 有効, 掲載, 認定 (nothing to change).

A word followed by なし/無し (「更新申請なし」) says nothing happened. A
withdrawal, lapse or suspension with a date counts from that date on (「2026/3/31
取下げ予定」 is listed until then).

What cannot be read with confidence is an :class:`Unreadable` error: two
different words (「更新申請を取下げ」: was the renewal withdrawn, or the
registration?), several dates, a date that does not exist, or no status word
at all. In a 状態 column that refuses the file; in the notes, where people write
anything, the row is listed as a warning and its status left as the other
columns say.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from cloudjudge.registries.dates import DateError, find_dates

Word = Literal["withdrawn", "lapsed", "suspended", "renewal_pending", "registered"]

#: Japanese names of the words, for messages.
WORD_LABELS: dict[str, str] = {
    "withdrawn": "取下げ・登録取消",
    "lapsed": "失効",
    "suspended": "一時停止",
    "renewal_pending": "更新申請中",
    "registered": "登録",
}

_PATTERNS: tuple[tuple[Word, re.Pattern[str]], ...] = (
    ("withdrawn", re.compile(r"取り?下げ?|登録の?取り?消し?|取り?消し?|抹消")),
    ("lapsed", re.compile(r"失効")),
    ("suspended", re.compile(r"一時停止|登録停止|停止")),
    ("renewal_pending", re.compile(r"更新(?:の)?(?:申請|手続き?|審査)|更新中")),
    ("registered", re.compile(r"登録|有効|掲載|認定")),
)
_NONE_AFTER = re.compile(r"\s*(?:なし|無し|無|予定なし)")
_BLANK = {"", "-", "―", "ー", "—", "なし", "無", "無し", "該当なし", "特になし"}


@dataclass(frozen=True)
class StatusNote:
    """What a status cell or a note says: the word and its date, if any."""

    word: Word
    on: date | None = None

    @property
    def label(self) -> str:
        return WORD_LABELS[self.word]


class Unreadable(ValueError):
    """The text mentions a status that cannot be read with confidence; the
    message (Japanese) says why and names the value."""


def _normalise(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return re.sub(r"\s+", " ", text)


def read_status(value: object) -> StatusNote | None:
    """The status a cell or a note states, ``None`` when it states none (blank,
    「なし」, 「－」). Raises :class:`Unreadable`."""
    if value is None:
        return None
    text = _normalise(value)
    if text in _BLANK:
        return None
    found: dict[Word, int] = {}
    negated = False
    rest = text
    for word, pattern in _PATTERNS:
        for match in pattern.finditer(rest):
            if _NONE_AFTER.match(rest, match.end()):
                negated = True  # 「更新申請なし」
            else:
                found.setdefault(word, match.start())
        rest = pattern.sub(lambda m: " " * len(m.group(0)), rest)
    words = [w for w in found if w != "registered"]
    if len(words) > 1:
        names = "」と「".join(WORD_LABELS[w] for w in sorted(words, key=found.__getitem__))
        raise Unreadable(f"状態が一つに決まりません（「{names}」の両方があります。値: {value!r}）")
    if not found:
        if negated:
            return None
        raise Unreadable(f"状態を表す語がありません（値: {value!r}）")
    chosen: Word = words[0] if words else "registered"
    try:
        dates = find_dates(text)
    except DateError as exc:
        raise Unreadable(str(exc)) from None
    if len(dates) > 1:
        shown = "、".join(d.isoformat() for d in dates)
        raise Unreadable(
            f"日付が複数あり、どれが状態の日付か分かりません（{shown}。値: {value!r}）"
        )
    return StatusNote(chosen, dates[0] if dates else None)
