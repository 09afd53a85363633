"""Fixtures for the registry web tests: the committed fixture files, list files
written on the fly (dates relative to today, so expiry is deterministic), and
applications put into use through the real workflow."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from cloudjudge.web.register import workflow
from cloudjudge.web.register.workflow import Step
from cloudjudge.web.registries.importing import import_registry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "registries"

ISMAP_HEADER = (
    "登録番号,クラウドサービスの名称,事業者,監査対象期間の末日,更新申請中,取下げ・登録取消"
)
LGWAN_HEADER = "サービスコード,クラウドサービスの名称,事業者,区分,取下げ・登録取消"


@pytest.fixture
def fixture_path():
    def path(name: str) -> Path:
        found = FIXTURES / name
        assert found.is_file(), f"missing fixture {found}"
        return found

    return path


@pytest.fixture
def today() -> datetime.date:
    return timezone.localdate()


def ismap_csv(*rows: tuple) -> bytes:
    """rows: (number, name, provider, audit_end date, renewal_pending, withdrawn)."""
    lines = [ISMAP_HEADER]
    for number, name, provider, audit_end, pending, withdrawn in rows:
        end = audit_end.strftime("%Y/%m/%d") if audit_end else ""
        lines.append(
            f"{number},{name},{provider},{end},{'○' if pending else ''},{'○' if withdrawn else ''}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def lgwan_csv(*rows: tuple) -> bytes:
    lines = [LGWAN_HEADER]
    for code, name, provider, category, withdrawn in rows:
        lines.append(f"{code},{name},{provider},{category},{'○' if withdrawn else ''}")
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def audit_end_for_expiry(expiry: datetime.date) -> datetime.date:
    """An audit-period end whose 3.5 expiry is on or just before ``expiry``."""
    from cloudjudge.registries import expiry_from_audit_end

    day = expiry - datetime.timedelta(days=500)
    while expiry_from_audit_end(day + datetime.timedelta(days=1)) <= expiry:
        day += datetime.timedelta(days=1)
    return day


@pytest.fixture
def load(db, security):
    """``load(kind, data_or_path, **kw)``: import as the security office; must succeed."""

    def do(kind: str, source, filename: str | None = None, importer=None):
        result = import_registry(kind, source, importer or security, filename=filename)
        assert result.ok, result.message
        return result

    return do


@pytest.fixture
def put_in_use(ciso):
    def do(application, applicant, security):
        workflow.perform(application, Step.SUBMIT, applicant)
        workflow.perform(application, Step.APPROVE, security)
        application.refresh_from_db()
        if application.needs_ciso_approval:
            workflow.perform(application, Step.CISO_APPROVE, ciso)
        application.checklist_items.update(status="done")  # 利用開始 needs them resolved
        workflow.perform(application, Step.START_USE, applicant)
        application.refresh_from_db()
        assert application.status == "in_use"
        return application

    return do
