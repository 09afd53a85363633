"""Japanese text in a terminal: display width, and wrapping that never splits a word.

Every line is at most ``width`` display columns, counting East Asian wide
characters (and ambiguous ones such as ○ and ①, to be safe) as two columns.
Japanese has no spaces between words, so lines break between the phrases
BudouX finds (「インターネット環境に／ある／端末から」), never inside one
(「イン／ターネット」); a reference such as 3.1(1)(ウ)① or （別紙1①） stays whole,
and no line starts with closing punctuation or ends with an opening bracket.
Only a phrase longer than a whole line is broken inside, between characters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from budoux import Parser

#: Characters a line must not start with: closing brackets, punctuation, small
#: kana, and circled numbers, which here always end a reference (別紙1①, (ウ)①).
NO_START = frozenset(
    "、。，．・：；？！）」』】〕〉》］｝ー～〜…‥々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
    ",.:;!?)]}%→"
    "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
)
#: Characters a line must not end with (opening brackets).
NO_END = frozenset("（「『【〔〈《［｛([{")
#: Inside an overlong phrase: an ASCII run with the kana or kanji before it (表1,
#: 別紙1), an ASCII run, a run of spaces, any other single character.
_PIECE = re.compile(r"[\u3041-\u30ff\u4e00-\u9fff][!-~]+|[!-~]+| +|.", re.DOTALL)


def char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WFA" else 1


def display_width(text: str) -> int:
    """Columns the text takes in a terminal (wide and ambiguous characters count 2)."""
    if text.isascii():
        return len(text)
    return sum(char_width(c) for c in text)


def pad(text: str, width: int) -> str:
    """Left-justify to ``width`` display columns."""
    return text + " " * max(0, width - display_width(text))


@cache
def _parser() -> Parser:
    import budoux

    return budoux.load_default_japanese_parser()


def _glued(left: str, right: str) -> bool:
    """Whether a break between two phrases would split a word or a reference."""
    a, b = left[-1], right[0]
    if a.isspace() or b.isspace():
        return False
    return b in NO_START or a in NO_END or (a.isascii() and b.isascii())


def phrases(text: str) -> list[str]:
    """The units a line may break between, in order; joined, they are ``text``."""
    if not text:
        return []
    if text.isascii():
        return re.findall(r"\S+|\s+", text)
    units: list[str] = []
    depth = 0  # open brackets: a space inside （別紙1① No.12） does not break
    glue = False
    for chunk in _parser().parse(text):
        for part in re.findall(r"\s+|\S+", chunk):
            if units and (glue or (depth > 0 and part.isspace())):
                units[-1] += part
                glue = part.isspace()
            elif units and not part.isspace() and not units[-1].isspace():
                if _glued(units[-1], part):
                    units[-1] += part
                else:
                    units.append(part)
            elif units and part.isspace() and units[-1].isspace():
                units[-1] += part
            else:
                units.append(part)
            depth = max(
                0, depth + sum(part.count(c) for c in "（(") - sum(part.count(c) for c in "）)")
            )
    return units


def _pieces(unit: str, room: int) -> list[str]:
    if display_width(unit) <= room or unit.isspace():
        return [unit]
    pieces: list[str] = []
    for piece in _PIECE.findall(unit):
        if len(piece) > 1 and display_width(piece) > room:
            pieces.extend(piece)  # an ASCII run longer than a line: break anywhere
        else:
            pieces.append(piece)
    return pieces


def wrap(
    text: str, width: int, indent: str = "", subsequent_indent: str | None = None
) -> list[str]:
    """Wrap text to ``width`` columns at phrase boundaries (see the module)."""
    rest = indent if subsequent_indent is None else subsequent_indent
    room = max(1, width - max(display_width(indent), display_width(rest)))
    lines: list[str] = []
    prefix = indent
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = display_width(prefix)
        if used + display_width(paragraph) <= width:  # fits: no phrases to find
            lines.append((prefix + paragraph).rstrip())
            prefix = rest
            continue
        units = [p for unit in phrases(paragraph) for p in _pieces(unit, room)]
        for unit in units:
            size = display_width(unit)
            if line and used + size > width:
                carried: list[str] = []
                moved = size  # never carry more than fits on the next line
                while (
                    len(line) > 1
                    and ((carried[0] if carried else unit)[0] in NO_START or line[-1][-1] in NO_END)
                    and moved + display_width(line[-1]) <= room
                ):
                    moved += display_width(line[-1])
                    carried.insert(0, line.pop())
                lines.append((prefix + "".join(line)).rstrip())
                prefix = rest
                line = carried
                used = display_width(prefix) + sum(display_width(t) for t in line)
                if unit.isspace() and not line:
                    continue
            line.append(unit)
            used += size
        lines.append((prefix + "".join(line)).rstrip())
        prefix = rest
    return lines
