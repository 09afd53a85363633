"""Why a registry file was rejected: every problem, each naming sheet, row and column."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ProblemCode = Literal[
    "unreadable",  # not an xlsx / CSV we can open, or an encoding we cannot decode
    "no_header",  # no heading row among the first rows
    "missing_column",  # a required column is absent
    "empty_required",  # a required cell is empty
    "bad_date",  # a date that cannot be read
    "bad_value",  # a flag, URL or status that cannot be read
    "duplicate",  # the same registration number / service code twice
    "no_rows",  # a heading row but no data rows
    "too_large",  # over a bound: file size, unpacked size, rows, a cell's length
    "too_many_problems",  # reading stopped after MAX_PROBLEMS problems
    # warnings: the file is imported, the row is named
    "unread_note",  # a note (備考) whose status could not be read
    "example_row",  # the template's example row, skipped
]

#: How many problems ``str(RegistryImportError)`` spells out before "ほか N 件".
SHOWN_IN_MESSAGE = 20


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the file was rejected.

    ``row`` is the 1-based row number as a spreadsheet program shows it (for a
    CSV file: the record number, which is the line number unless a cell holds
    a line break); ``None`` when the problem concerns the whole file or a
    column. ``column`` is the heading as written in the file, or the template's
    heading for a missing column.
    """

    code: ProblemCode
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"シート「{self.sheet}」")
        if self.row is not None:
            where.append(f"{self.row}行目")
        if self.column:
            where.append(f"列「{self.column}」")
        return f"{' '.join(where)}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


#: Problems collected before reading stops: a wrong file gives one per row.
MAX_PROBLEMS = 200


class RegistryImportError(ValueError):
    """The file was rejected as a whole; ``problems`` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("RegistryImportError needs at least one problem")
        shown = [str(p) for p in self.problems[:SHOWN_IN_MESSAGE]]
        rest = len(self.problems) - len(shown)
        if rest > 0:
            shown.append(f"ほか {rest} 件")
        super().__init__("\n".join(shown))

    def as_dicts(self) -> list[dict[str, object]]:
        return [p.as_dict() for p in self.problems]
