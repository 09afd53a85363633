"""Reconciling the register with its history (issue 14): direct edits of the
register's tables — made as a database administrator would, with SQL that
never touches the audit log — make ``audit_verify`` fail and name the row,
the field, the stored value and the audited one.

The audit of issue 14 found 7 of 7 such edits passing verification: an
application's status and verdict, an approver, a stored judgement, a
review's actor, an evidence hash, a user's role. Each is a test here."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.audit import reconcile
from cloudjudge.web.audit.chain import in_snapshot
from cloudjudge.web.audit.models import Action, AuditEntry, ChainHead
from cloudjudge.web.register import applications, evidence, workflow
from cloudjudge.web.register.models import Application, Review
from cloudjudge.web.register.workflow import Step

from .helpers import quote, run

pytestmark = pytest.mark.django_db

#: Facts whose verdict needs the CISO's approval (3.1(1)(エ)).
NEEDS_CISO = {
    "purpose": "委託先とのファイル共有",
    "confidentiality": "3B",
    "method": "internet_pc",
    "breakout_usage": "",
    "limited_external_sharing": True,
}
GROUPWARE = {
    "purpose": "Web 会議",
    "confidentiality": "3B",
    "method": "local_breakout",
    "breakout_usage": "file_import",
}


def sql(table: str, where_id: int, **columns) -> None:
    """``UPDATE table SET ... WHERE id = ...``: an edit that bypasses cloudjudge."""
    sets = ", ".join(f"{quote(name)} = %s" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET {sets} WHERE {quote('id')} = %s",
            [*columns.values(), where_id],
        )
        assert cursor.rowcount == 1


def createuser(name: str, role: str, department: str = "") -> User:
    """A user made the way an administrator makes one (its creation audited)."""
    args = [name, "--role", role] + (["--department", department] if department else [])
    call_command("createuser", *args, stdout=StringIO())
    return User.objects.get(username=name)


@pytest.fixture
def world(department, make_service):
    """Two applications made through the register's own functions: one in use
    after the security office's and the CISO's approvals, with evidence; one
    still a draft."""
    people = {
        "applicant": createuser("hanako", Role.APPLICANT, department.code),
        "security": createuser("sec-tanaka", Role.SECURITY),
        "ciso": createuser("ciso-sato", Role.CISO),
        "other_ciso": createuser("ciso-suzuki", Role.CISO),
    }
    applicant = people["applicant"]
    in_use = applications.create_application(
        applicant, make_service(name="ファイル共有サービス"), **NEEDS_CISO
    )
    workflow.perform(in_use, Step.SUBMIT, applicant)
    workflow.perform(in_use, Step.APPROVE, people["security"], "確認しました")
    workflow.perform(in_use, Step.CISO_APPROVE, people["ciso"], "承認します")
    in_use.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(in_use, Step.START_USE, applicant)
    upload = SimpleUploadedFile("ISMAP登録証.pdf", b"%PDF-1.4\n%certificate\n")
    stored = evidence.store(in_use, upload, applicant)
    draft = applications.create_application(
        applicant, make_service(name="グループウェア"), **GROUPWARE
    )
    in_use.refresh_from_db()
    return {**people, "in_use": in_use, "draft": draft, "evidence": stored}


def verify(*args: str) -> tuple[int, str, str]:
    return run("audit_verify", *args)


def assert_named(error: str, *parts: str) -> str:
    """The single finding line holding all of ``parts``."""
    assert "台帳と監査ログが一致しません" in error, error
    lines = [line for line in error.splitlines() if all(part in line for part in parts)]
    assert lines, f"no line with {parts} in:\n{error}"
    return lines[0]


def findings() -> list[reconcile.Finding]:
    return list(in_snapshot(reconcile.reconcile).findings)


def test_the_register_made_through_cloudjudge_matches_its_history(world):
    status, out, error = verify()
    assert status == 0, error
    assert "監査ログの連鎖は正常です" in out
    assert "台帳は監査ログと一致しています" in out
    assert "利用申請 2 件" in out and "ユーザー 4 件" in out and "審査 2 件" in out


# --------------------------------------------------------------------------- the audit's 7 edits


def test_an_applications_status_edited_directly(world):
    draft = world["draft"]
    sql("register_application", draft.pk, status="approved")
    status, _, error = verify()
    assert status == 1
    line = assert_named(error, draft.number, "（status）")
    assert "approved" in line and "draft" in line


def test_an_applications_verdict_edited_directly(world):
    in_use = world["in_use"]
    assert in_use.verdict == "approval_required"
    sql("register_application", in_use.pk, verdict="permitted")
    status, _, error = verify()
    assert status == 1
    line = assert_named(error, in_use.number, "（verdict）")
    assert "permitted" in line and "approval_required" in line


def test_an_approver_edited_directly(world):
    in_use, other = world["in_use"], world["other_ciso"]
    sql("register_application", in_use.pk, ciso_approved_by_id=other.pk)
    status, _, error = verify()
    assert status == 1
    line = assert_named(error, in_use.number, "（ciso_approved_by）")
    assert "ciso-suzuki" in line and "ciso-sato" in line


def test_a_stored_judgement_edited_directly(world):
    in_use = world["in_use"]
    judgement = in_use.latest_judgement
    forged = dict(judgement.decision, verdict="permitted", approvals=[])
    sql("register_judgement", judgement.pk, verdict="permitted", decision=json.dumps(forged))
    status, _, error = verify()
    assert status == 1
    line = assert_named(error, f"判定 #{judgement.pk}", in_use.number, "（verdict）")
    assert "permitted" in line and "approval_required" in line
    assert_named(error, f"判定 #{judgement.pk}", "（content_sha256）")
    assert_named(error, f"判定 #{judgement.pk}", "（needs_ciso_approval）")


def test_a_reviews_actor_edited_directly(world):
    in_use, other = world["in_use"], world["other_ciso"]
    review = Review.objects.get(application=in_use, action="ciso_approve")
    sql("register_review", review.pk, actor_id=other.pk)
    status, _, error = verify()
    assert status == 1
    line = assert_named(error, f"審査 #{review.pk}", in_use.number, "（actor）")
    assert "ciso-suzuki" in line and "ciso-sato" in line


def test_an_evidence_hash_edited_directly(world):
    stored = world["evidence"]
    forged = "0" * 64
    sql("register_evidence", stored.pk, sha256=forged)
    status, _, error = verify()
    assert status == 1
    line = assert_named(error, f"証跡 #{stored.pk}", "ISMAP登録証.pdf", "（sha256）")
    assert forged in line and stored.sha256 in line


def test_a_users_role_edited_directly(world):
    applicant = world["applicant"]
    sql("accounts_user", applicant.pk, role="ciso")
    status, _, error = verify()
    assert status == 1
    line = assert_named(error, "ユーザー hanako", "（role）")
    assert "ciso" in line and "applicant" in line


# --------------------------------------------------------------------------- and around them


def test_every_edit_is_reported_not_only_the_first(world):
    sql("register_application", world["draft"].pk, status="approved")
    sql("accounts_user", world["security"].pk, is_superuser=True)
    problems = {(f.kind, f.field) for f in findings()}
    assert problems == {("register.application", "status"), ("accounts.user", "is_superuser")}


def test_a_user_created_outside_cloudjudge_is_named(world):
    User.objects.create_user("intruder", role=Role.ADMIN, password="x" * 16)
    status, _, error = verify()
    assert status == 1
    assert "ユーザー intruder: 監査ログにありません" in assert_named(error, "intruder")


def test_a_row_deleted_outside_cloudjudge_is_named(world):
    stored = world["evidence"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote('register_evidence')} WHERE {quote('id')} = %s", [stored.pk]
        )
    status, _, error = verify()
    assert status == 1
    assert "削除" in assert_named(error, f"証跡 #{stored.pk}", "ISMAP登録証.pdf")


def test_an_edit_later_overwritten_by_a_legitimate_change_is_still_found(world):
    """Returned by SQL (draft → returned), then submitted through cloudjudge:
    the row and the log agree again, but the submission started from a status
    the log never had."""
    draft, applicant = world["draft"], world["applicant"]
    sql("register_application", draft.pk, status="returned")
    workflow.perform(Application.objects.get(pk=draft.pk), Step.SUBMIT, applicant)
    (finding,) = findings()
    assert (finding.problem, finding.field, finding.stored, finding.audited) == (
        reconcile.Problem.CHANGED_OUTSIDE,
        "status",
        "returned",
        "draft",
    )
    status, _, error = verify()
    assert status == 1 and draft.number in error


def test_a_forged_ciso_approval_is_not_laundered_by_the_next_step(world, make_service):
    """A CISO approval written in by SQL lets 利用開始 pass its guard; the
    legitimate step that follows records only what it changed, so the forged
    fields are still reported."""
    applicant, security, ciso = world["applicant"], world["security"], world["ciso"]
    app = applications.create_application(applicant, make_service(name="電子契約"), **NEEDS_CISO)
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, security)
    sql(
        "register_application",
        app.pk,
        ciso_approved_by_id=ciso.pk,
        ciso_approved_at=connection.ops.adapt_datetimefield_value(timezone.now()),
    )
    app.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(Application.objects.get(pk=app.pk), Step.START_USE, applicant)
    fields = {f.field for f in findings() if f.object_id == str(app.pk)}
    assert fields == {"ciso_approved_by", "ciso_approved_at"}


def test_changes_made_through_cloudjudge_keep_the_register_reconciled(world):
    in_use, applicant, security = world["in_use"], world["applicant"], world["security"]
    workflow.perform(in_use, Step.REVIEW_DONE, applicant)
    workflow.perform(in_use, Step.BEGIN_EXIT, security)
    draft = world["draft"]
    applications.update_application(draft, applicant, confidentiality="2")
    workflow.perform(draft, Step.SUBMIT, applicant)
    workflow.perform(draft, Step.RETURN, security, "目的を具体的に")
    assert findings() == []


def test_a_tail_cut_with_the_head_row_is_caught_when_it_took_a_change_away(world):
    """Cutting the newest entries and rewinding the head row passes the chain
    (an anchor taken after them catches it, test_anchor.py); when the entries
    cut recorded a change, the changed row no longer matches what is left."""
    draft, applicant = world["draft"], world["applicant"]
    before = AuditEntry.objects.order_by("-sequence").first().sequence
    workflow.perform(draft, Step.SUBMIT, applicant)
    with connection.cursor() as cursor:
        table, column = quote(AuditEntry._meta.db_table), quote("sequence")
        cursor.execute(f"DELETE FROM {table} WHERE {column} > %s", [before])
    newest = AuditEntry.objects.get(sequence=before)
    ChainHead.objects.filter(pk=1).update(last_sequence=before, last_hash=newest.hash)
    status, out, error = verify()
    assert status == 1 and "監査ログの連鎖は正常です" in out
    line = assert_named(error, draft.number, "（status）")
    assert "submitted" in line and "draft" in line


# --------------------------------------------------------------------------- baseline and prune


def test_rows_older_than_reconciliation_get_a_baseline_once(world):
    """A user created before cloudjudge recorded users (here: without an
    audited creation) is reported until ``audit baseline``; a row that differs
    from what the log knows is refused a baseline and stays reported."""
    User.objects.create_user("legacy", role=Role.AUDITOR, password="x" * 16)
    sql("accounts_user", world["security"].pk, role="admin")
    status, out, error = run("audit_baseline")
    assert status == 1
    assert "ユーザー 1 件" in out
    assert "ユーザー sec-tanaka" in error and "（role）" in error
    baseline = AuditEntry.objects.get(action=Action.BASELINE)
    assert baseline.object_repr == "legacy" and baseline.after["role"] == "auditor"
    assert {f.object_id for f in findings()} == {str(world["security"].pk)}
    # Nothing left to settle: a second run records nothing.
    run("audit_baseline")
    assert AuditEntry.objects.filter(action=Action.BASELINE).count() == 1


def test_dry_run_baseline_records_nothing(world):
    User.objects.create_user("legacy", role=Role.AUDITOR, password="x" * 16)
    status, out, _ = run("audit_baseline", "--dry-run")
    assert status == 0 and "ユーザー 1 件" in out
    assert not AuditEntry.objects.filter(action=Action.BASELINE).exists()


def test_pruning_keeps_every_rows_audited_state(department, make_service, at_time):
    """The history of old rows goes with ``audit prune``; their audited state
    is carried forward, so edits are still found afterwards."""
    long_ago = timezone.now() - datetime.timedelta(days=500)
    with at_time(long_ago):
        applicant = createuser("hanako", Role.APPLICANT, department.code)
        app = applications.create_application(applicant, make_service(), **GROUPWARE)
    workflow.perform(app, Step.SUBMIT, applicant)
    status, _out, error = run("audit_prune", "--older-than-days", "400")
    assert status == 0, error
    assert findings() == []
    assert AuditEntry.objects.filter(action=Action.BASELINE).count() >= 3  # user, app, judgement
    sql("register_application", app.pk, status="approved")
    assert [(f.field, f.stored) for f in findings()] == [("status", "approved")]


def test_prune_refuses_while_the_register_differs_from_the_log(department, make_service, at_time):
    with at_time(timezone.now() - datetime.timedelta(days=500)):
        applicant = createuser("hanako", Role.APPLICANT, department.code)
        app = applications.create_application(applicant, make_service(), **GROUPWARE)
    sql("register_application", app.pk, status="approved")
    status, _, error = run("audit_prune", "--older-than-days", "400")
    assert status == 1 and app.number in error
    assert AuditEntry.objects.filter(action=Action.CREATE).exists()  # nothing removed


# --------------------------------------------------------------------------- evidence files


def test_verify_files_reads_every_evidence_file_back(world):
    stored = world["evidence"]
    status, out, _ = verify("--files")
    assert status == 0 and "証跡ファイルはすべて" in out
    with default_storage.open(stored.file.name, "wb") as handle:
        handle.write(b"%PDF-1.4\n%forged\n")
    assert verify()[0] == 0  # the rows still agree with the log
    status, _, error = verify("--files")
    assert status == 1
    assert f"証跡 #{stored.pk}" in error and stored.sha256 in error
    default_storage.delete(stored.file.name)
    status, _, error = verify("--files")
    assert status == 1 and "ありません" in error
