"""Re-judging a seeded register against the example revision
(tests/fixtures/catalogs/sakai-1.1-example.yaml, test data): the report says
what would change without changing anything; applying it keeps the work done
on unchanged items, closes the rows no longer required with a note, and moves
the application whose verdict got worse to 見直しが必要."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from cloudjudge.web.audit import reconcile, trail
from cloudjudge.web.audit.models import AuditEntry
from cloudjudge.web.register import checklist, judging, rejudge, workflow
from cloudjudge.web.register.models import (
    Application,
    ItemStatus,
    Judgement,
    RejudgeRun,
    Status,
)
from cloudjudge.web.register.workflow import Step

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "catalogs"
NEW = "sakai-cloud-usage-criteria@1.1-example"


@pytest.fixture
def revision(monkeypatch):
    monkeypatch.setenv("CLOUDJUDGE_CATALOG_DIRS", str(FIXTURES))
    return rejudge.find_catalog(NEW)


@pytest.fixture
def register(revision, make_application, make_service, applicant, security, ciso):
    """Four applications judged with 1.0 before the revision is in force."""
    isms = make_service(name="ISMS のみのサービス", listings=(), certs=("iso27001",))
    worse = make_application(service=isms)  # 3B local breakout file_import: 承認が必要
    workflow.perform(worse, Step.SUBMIT, applicant)
    workflow.perform(worse, Step.APPROVE, ciso, "承認")
    worse.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(worse, Step.START_USE, applicant)
    listed = make_application()  # ISMAP, 3B: 利用可, needs S1-10; gets SEL-G3
    workflow.perform(listed, Step.SUBMIT, applicant)
    workflow.perform(listed, Step.APPROVE, security, "承認")
    listed.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(listed, Step.START_USE, applicant)
    rows = {r.item_id: r for r in listed.checklist_items.all()}
    for item_id in ("T1-02", "S1-03", "S1-10"):
        checklist.update_item(
            rows[item_id], applicant, status=ItemStatus.DONE, owner=applicant, note="確認済み"
        )
    download = make_application(
        confidentiality="2",
        method="internet_pc",
        breakout_usage="",
        internet_virtual_pc=True,
        download_to_internet_terminal=True,
    )
    ended = make_application()
    Application.objects.filter(pk=ended.pk).update(status=Status.ENDED)
    return {"worse": worse, "listed": listed, "download": download, "ended": ended}


def test_the_dry_run_reports_the_intended_changes_worst_first(register, revision):
    before = Judgement.objects.count()
    report = rejudge.report(revision)
    assert report.total == 3  # the ended one is not looked at
    changes = {c.application_id: c for c in report.changes}
    first = report.changes[0]
    assert first.application_id == register["worse"].pk
    assert (first.old_verdict, first.new_verdict) == ("approval_required", "prohibited")
    assert first.approvals_removed == ("ciso",) and first.worse
    listed = changes[register["listed"].pk]
    assert (listed.old_verdict, listed.new_verdict) == ("permitted", "permitted")
    assert listed.required_added == ("SEL-G3",) and listed.required_removed == ("S1-10",)
    download = changes[register["download"].pk]
    assert download.required_added[:1] == ("S2-01",) and len(download.required_added) == 22
    assert download.required_removed == ("S1-10",)
    assert report.worse == 1
    assert Judgement.objects.count() == before  # nothing changed
    assert not RejudgeRun.objects.exists()


def test_applying_before_the_version_is_in_force_is_refused(register, revision):
    with pytest.raises(rejudge.NotInForce, match="2027-04-01"):
        rejudge.apply(revision, None)
    with pytest.raises(CommandError, match="CLOUDJUDGE_CATALOG_VERSION"):
        call_command("rejudge", "--version", "1.1-example", "--no-progress")


def test_applying_keeps_finished_work_and_moves_the_worse_one(
    register, revision, settings, security
):
    settings.CLOUDJUDGE_CATALOG_VERSION = NEW
    run = rejudge.apply(revision, security, batch_size=2)
    assert run.finished and (run.done, run.total, run.changed, run.worsened) == (3, 3, 3, 1)
    worse = Application.objects.get(pk=register["worse"].pk)
    assert (worse.status, worse.verdict) == (Status.NEEDS_REVIEW, "prohibited")
    assert worse.latest_judgement.criteria_version == NEW
    assert worse.status_changes.last().action == Step.MARK_NEEDS_REVIEW
    listed = Application.objects.get(pk=register["listed"].pk)
    assert listed.status == Status.IN_USE  # not worse: stays in use
    rows = {r.item_id: r for r in listed.checklist_items.all()}
    for item_id in ("T1-02", "S1-03"):  # reworded, unchanged: the work is kept
        assert (rows[item_id].status, rows[item_id].owner_id, rows[item_id].active) == (
            ItemStatus.DONE,
            listed.applicant_id,
            True,
        )
    assert rows["T1-02"].note == "確認済み"
    assert not rows["S1-10"].active and rows["S1-10"].status == ItemStatus.DONE
    assert f"判断基準 {NEW} の判定で不要になりました" in rows["S1-10"].note
    assert rows["SEL-G3"].active and rows["SEL-G3"].status == ItemStatus.TODO
    ended = Application.objects.get(pk=register["ended"].pk)
    assert ended.latest_judgement.criteria_version == "sakai-cloud-usage-criteria@1.0"
    # the older judgements stay as they were, readable
    assert worse.judgements.filter(criteria_version="sakai-cloud-usage-criteria@1.0").exists()
    # done again: nothing more changes
    assert rejudge.report(revision).changed == ()
    again = rejudge.apply(revision, security)
    assert again.pk != run.pk and again.changed == 0


def test_an_interrupted_run_resumes_after_its_last_batch(register, revision, settings):
    settings.CLOUDJUDGE_CATALOG_VERSION = NEW
    run = rejudge.apply(revision, None, batch_size=1, max_batches=1)
    assert not run.finished and run.done == 1
    first = Application.objects.get(pk=run.last_application_id)
    assert first.latest_judgement.criteria_version == NEW
    count = Judgement.objects.count()
    resumed = rejudge.apply(revision, None, batch_size=1)
    assert resumed.pk == run.pk and resumed.finished and resumed.done == 3
    assert Judgement.objects.count() == count + 2  # the first one was not judged again


def test_the_command_and_its_exports(register, revision, settings, tmp_path, capsys):
    call_command("rejudge", "--version", "1.1-example", "--dry-run", "--no-progress")
    out = capsys.readouterr().out
    assert "3 件のうち 3 件が変わり、1 件の判定が悪くなります" in out
    assert f"{register['worse'].number} ISMS のみのサービス: 承認が必要 → 禁止" in out
    target = tmp_path / "report.csv"
    call_command("rejudge", "--version", NEW, "--dry-run", "--export", str(target))
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:2] == ["申請番号", "サービス名"] and rows[1][7] == "承認が必要 → 禁止"
    settings.CLOUDJUDGE_CATALOG_VERSION = "1.1-example"
    call_command("rejudge", "--version", "1.1-example", "--no-progress")
    assert "3 件を判定し直しました: 変化 3 件、見直しが必要へ 1 件" in capsys.readouterr().out


def test_the_pages_for_the_security_office(register, revision, login, security, applicant):
    client = login(security)
    page = client.get("/catalog/versions/")
    assert page.status_code == 200 and NEW in page.content.decode()
    diff = client.get("/catalog/diff/", {"old": "1.0", "new": "1.1-example"}).content.decode()
    assert "SEL-G3" in diff and "<ins>サーバ証明書により</ins>" in diff
    assert "承認が必要 → 禁止" in diff
    report = client.get("/catalog/rejudge/", {"version": NEW}).content.decode()
    assert "承認が必要 → 禁止" in report and "2027-04-01" in report  # not yet in force
    xlsx = client.get("/catalog/rejudge.xlsx", {"version": NEW})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["H2"].value == "承認が必要 → 禁止"
    detail = client.get(f"/applications/{register['worse'].pk}/").content.decode()
    assert "sakai-cloud-usage-criteria@1.0" in detail and NEW in detail
    assert login(applicant).get("/catalog/rejudge/", {"version": NEW}).status_code == 403
    assert client.get("/catalog/diff/", {"old": "1.0", "new": "9"}).status_code == 404


def test_a_batch_is_audited_in_one_go_and_mails_after_it_commits(
    register,
    revision,
    settings,
    security,
    applicant,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    """The audit entries of a batch are appended together and still chain and
    reconcile (the `audit verify` checks); the e-mail about the worse verdict
    leaves only once the batch's transaction has committed."""
    security.email, applicant.email = "security@city.example", "applicant@city.example"
    security.save()
    applicant.save()
    settings.CLOUDJUDGE_CATALOG_VERSION = NEW
    known = {(f.kind, f.object_id, f.problem, f.field) for f in reconcile.reconcile().findings}
    entries = AuditEntry.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        run = rejudge.apply(revision, security, batch_size=10)
    assert run.worsened == 1
    assert mailoutbox == []  # nothing sent while the batch was open
    assert len(callbacks) == 1  # one hand-over for the batch
    for callback in callbacks:
        callback()
    worse = register["worse"]
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == ["applicant@city.example", "security@city.example"]
    assert "見直しが必要" in mailoutbox[0].subject and worse.number in mailoutbox[0].body
    judged = Judgement.objects.filter(criteria_version=NEW).values_list("pk", flat=True)
    audited = AuditEntry.objects.filter(
        object_type="register.judgement", action="create", object_id__in=[str(pk) for pk in judged]
    )
    assert len(judged) == 3 and audited.count() == 3
    # 3 judgements and the status change of the worse one, after the entries before
    assert AuditEntry.objects.count() == entries + 4
    assert trail.verify_chain().ok
    after = {(f.kind, f.object_id, f.problem, f.field) for f in reconcile.reconcile().findings}
    assert after <= known  # the batch added no difference between the register and its log


def test_the_number_of_queries_does_not_grow_with_the_batch(revision, make_application):
    """The registry, the snapshots, their audit entries, the verdicts and the
    checklist rows are read and written per batch: judging six applications
    together takes as many queries as judging one."""
    pks = [make_application().pk for _ in range(7)]
    applications = list(
        Application.objects.filter(pk__in=pks)
        .select_related("service", "latest_judgement")
        .order_by("pk")
    )
    counts = []
    for batch in (applications[:1], applications[1:]):
        with CaptureQueriesContext(connection) as queries:
            judged = judging.judge_applications(batch, catalog=revision)
        assert [j.criteria_version for j in judged] == [NEW] * len(batch)
        counts.append(len(queries))
    # (one UPDATE per checklist position that moved, whatever the batch's size)
    assert counts[0] == counts[1] <= 40, counts
    for application in applications:
        application.refresh_from_db()
        assert application.latest_judgement.criteria_version == NEW
        assert application.checklist_items.filter(item_id="SEL-G3", active=True).exists()
