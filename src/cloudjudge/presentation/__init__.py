"""Presenting decisions and the catalog to people.

- ``decision``: the one presenter of a decision (order, grouping, words), plain data.
- ``terminal``: the Japanese text reports of the CLI.
- ``wrapping``: display width and Japanese line wrapping for the terminal.

The PDF reports (``cloudjudge.documents.pdf``) and the web layer read the same
presenter; the Japanese word of every code lives in ``cloudjudge.labels``.
"""

from cloudjudge.presentation.decision import (
    ChangeView,
    DecisionView,
    FindingView,
    MeasureGroup,
    MeasureView,
    ReasonView,
    RemedyView,
    approval_text,
    present,
)

__all__ = [
    "ChangeView",
    "DecisionView",
    "FindingView",
    "MeasureGroup",
    "MeasureView",
    "ReasonView",
    "RemedyView",
    "approval_text",
    "present",
]
