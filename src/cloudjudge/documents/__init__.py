"""Documents people exchange about a cloud application (issue #6).

Pure and Django-free: plain data in (``models``), bytes or text out.

- ``questionnaire``: the vendor questionnaire (.xlsx) and reading it back.
- ``procurement``: the procurement specification section (3.3), Markdown and .docx.
- ``pdf``: the judgement report and the register report (PDF).
- Japanese labels for the engine's codes live in ``cloudjudge.labels`` (shared
  with the web layer and the CLI); how a decision is presented, in
  ``cloudjudge.presentation``.

The builders import openpyxl, python-docx and reportlab on first use, so
``models`` loads quickly.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from cloudjudge.documents.models import (
    ApplicationSummary,
    ApprovalRecord,
    ChecklistRow,
    QuestionnaireRequest,
    RegisterRow,
)

_LAZY = {
    "Answer": "questionnaire",
    "QuestionnaireError": "questionnaire",
    "QuestionnaireProblem": "questionnaire",
    "StatusProposal": "questionnaire",
    "build_questionnaire": "questionnaire",
    "proposals": "questionnaire",
    "read_questionnaire": "questionnaire",
    "procurement_docx": "procurement",
    "procurement_markdown": "procurement",
    "application_report_pdf": "pdf",
    "register_report_pdf": "pdf",
}

__all__ = [
    "ApplicationSummary",
    "ApprovalRecord",
    "ChecklistRow",
    "QuestionnaireRequest",
    "RegisterRow",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"cloudjudge.documents.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
