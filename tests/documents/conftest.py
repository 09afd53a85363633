"""Shared inputs for the document tests: real engine decisions, the plain data
the web layer will pass, and fixtures that run LibreOffice and poppler.

A test that needs an external tool asks for its fixture (``libreoffice``,
``poppler``), which skips the test, naming the Debian package, only when the
binary is missing. CI installs them: libreoffice-calc-nogui, poppler-utils,
poppler-data and a Japanese font (fonts-noto-cjk).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

import cloudjudge
from cloudjudge.catalog import Catalog, default_catalog
from cloudjudge.documents import (
    ApplicationSummary,
    ApprovalRecord,
    ChecklistRow,
    QuestionnaireRequest,
)
from support.external_tools import libreoffice, poppler  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]

#: Real applications, judged by the engine in the fixtures below.
FACTS: dict[str, dict[str, Any]] = {
    # Online storage shared with contractors from internet PCs: ISMS only, so
    # 承認が必要, with SEL, EXIT, S1 and S2 required.
    "storage": {
        "service": {
            "name": "オンラインストレージ",
            "provider": "Example Storage Inc.",
            "isms_certifications": ["iso27001"],
        },
        "data": {"confidentiality": "3B", "administrative_documents": True},
        "connection": {"method": "internet_pc", "network": "internet"},
        "exceptions": {"limited_external_sharing": True},
    },
    # Groupware over local breakout, ISMAP listed: 利用可, SEL, EXIT and S1 only.
    "groupware": {
        "service": {
            "name": "クラウド型グループウェア",
            "provider": "株式会社サンプルクラウド",
            "listings": ["ismap"],
            "isms_certifications": ["iso27001", "iso27017"],
        },
        "data": {"confidentiality": "3B"},
        "connection": {"method": "local_breakout", "breakout_usage": "file_import"},
    },
    # The same groupware after re-judging: now critical to citizens, so S1-01 too.
    "groupware_critical": {
        "service": {
            "name": "クラウド型グループウェア",
            "provider": "株式会社サンプルクラウド",
            "listings": ["ismap"],
        },
        "data": {"confidentiality": "3B", "critical_to_citizens": True},
        "connection": {"method": "local_breakout", "breakout_usage": "file_import"},
    },
    # My Number data over the internet: 禁止.
    "my_number": {
        "service": {
            "name": "給付金申請受付サービス",
            "provider": "株式会社サンプル",
            "listings": ["ismap"],
        },
        "data": {"confidentiality": "3B", "my_number": True},
        "connection": {"method": "local_breakout", "breakout_usage": "no_file_import"},
    },
}


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def decisions() -> dict[str, dict[str, Any]]:
    judged = {name: dict(cloudjudge.judge(facts)) for name, facts in FACTS.items()}
    assert judged["storage"]["verdict"] == "approval_required"
    assert judged["groupware"]["verdict"] == "permitted"
    assert judged["my_number"]["verdict"] == "prohibited"
    return judged


@pytest.fixture(scope="session")
def make_questionnaire_request(decisions) -> Callable[..., QuestionnaireRequest]:
    """``make_questionnaire_request(case="storage", number="2025-0007")``."""

    def make(case: str = "storage", number: str = "2025-0007") -> QuestionnaireRequest:
        service = FACTS[case]["service"]
        return QuestionnaireRequest(
            application_number=number,
            service_name=service["name"],
            provider=service.get("provider", ""),
            department="市民局 市民生活部 市民協働課",
            decision=decisions[case],
            due_date=date(2025, 7, 31),
            contact="情報政策課 セキュリティ担当（内線 1234）",
            issued_on=date(2025, 7, 1),
        )

    return make


def _checklist(decision: dict[str, Any]) -> tuple[ChecklistRow, ...]:
    """Checklist rows as the web layer would keep them, one per required item."""
    statuses = ("未対応", "対応中", "対応済", "該当なし")
    rows = []
    for n, entry in enumerate(decision["required"]):
        status = statuses[n % 4]
        rows.append(
            ChecklistRow(
                item_id=entry["id"],
                title=entry["title"],
                clause=entry["clause"],
                status=status,
                owner="情報政策課 山田",
                due_date=date(2025, 9, 30),
                evidence=("SLA契約書_第3条.pdf", "ISMS認証登録証_2025.pdf") if n % 3 == 0 else (),
                note="専用端末を使用しないため該当なし" if status == "該当なし" else "",
            )
        )
    return tuple(rows)


@pytest.fixture(scope="session")
def make_summary(decisions) -> Callable[..., ApplicationSummary]:
    """``make_summary(case="storage")``: an application as the web layer passes it."""

    def make(case: str = "storage", number: str = "2025-0007") -> ApplicationSummary:
        facts = FACTS[case]
        return ApplicationSummary(
            number=number,
            service_name=facts["service"]["name"],
            provider=facts["service"].get("provider", ""),
            department="市民局 市民生活部 市民協働課",
            applicant="堺 太郎",
            purpose="外部事業者（委託先）との大容量ファイルの共有。"
            "委託業務の成果物（数百 MB の図面・写真）をメールで送れないため。",
            facts=facts,
            decision=decisions[case],
            checklist=_checklist(decisions[case]),
            approvals=(
                ApprovalRecord("堺 太郎", "担当", "申請", datetime(2025, 7, 1, 9, 30)),
                ApprovalRecord(
                    "情報 花子",
                    "情報システム管理者",
                    "承認",
                    datetime(2025, 7, 3, 14, 5),
                    "別紙1②の対策（専用端末の指定）を確認した。",
                ),
                ApprovalRecord(
                    "統括 一郎",
                    "統括情報セキュリティ責任者",
                    "承認",
                    datetime(2025, 7, 10, 10, 0),
                ),
            ),
            status="承認済",
            generated_at=datetime(2025, 7, 11, 8, 0),
            organisation="堺市",
        )

    return make


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """``var/test-output`` (git-ignored): rendered pages kept for a person to look at."""
    path = ROOT / "var" / "test-output"
    path.mkdir(parents=True, exist_ok=True)
    return path
