"""The register's data: immutable judgements, re-judging, checklist sync."""

import pytest

from cloudjudge.web.register import applications, checklist, judging
from cloudjudge.web.register.models import ImmutableError, ItemStatus, Judgement

pytestmark = pytest.mark.django_db


def test_an_application_is_numbered_judged_and_given_a_checklist(make_application):
    app = make_application()
    assert app.number.startswith("CJ-") and app.number.endswith(f"{app.pk:05d}")
    judgement = app.latest_judgement
    assert judgement.verdict == app.verdict == "permitted"
    assert judgement.request["connection"] == {
        "method": "local_breakout",
        "internet_virtual_pc": False,
        "download_to_internet_terminal": False,
        "download_by_contractor": False,
        "breakout_usage": "file_import",
    }
    assert judgement.decision["criteria_version"] == judgement.criteria_version
    ids = [row.item_id for row in app.checklist_items.order_by("position")]
    assert ids == [entry["id"] for entry in judgement.decision["required"]]
    assert "T1-07" in ids and "EXIT-2" in ids  # 表1 column C, and 3.2


def test_a_judgement_cannot_be_changed_or_deleted(make_application):
    judgement = make_application().latest_judgement
    judgement.verdict = "prohibited"
    with pytest.raises(ImmutableError):
        judgement.save()
    with pytest.raises(ImmutableError):
        judgement.delete()
    with pytest.raises(ImmutableError):
        Judgement.objects.filter(pk=judgement.pk).update(verdict="prohibited")
    with pytest.raises(ImmutableError):
        Judgement.objects.filter(pk=judgement.pk).delete()
    judgement.refresh_from_db()
    assert judgement.verdict == "permitted"


def test_changing_the_facts_rejudges_and_keeps_every_earlier_judgement(make_application, applicant):
    app = make_application()
    first = app.latest_judgement
    applications.update_application(app, applicant, confidentiality="3A")
    app.refresh_from_db()
    assert app.verdict == "prohibited"
    assert list(app.judgements.all()) == [app.latest_judgement, first]
    first.refresh_from_db()
    assert first.verdict == "permitted"
    assert first.request["data"]["confidentiality"] == "3B"


def test_unchanged_facts_make_no_new_snapshot(make_application, applicant):
    app = make_application()
    again = judging.judge_application(app, applicant)
    assert again == app.latest_judgement
    assert app.judgements.count() == 1


def test_checklist_sync_keeps_status_and_notes_of_rows_that_remain(
    make_application, applicant, security
):
    app = make_application()  # local breakout C
    t1_07 = app.checklist_items.get(item_id="T1-07")  # columns B and C
    checklist.update_item(
        t1_07, applicant, status=ItemStatus.DONE, note="無害化装置を導入済み", owner=security
    )
    t1_02 = app.checklist_items.get(item_id="T1-02")  # columns A, B and C
    checklist.update_item(t1_02, applicant, status=ItemStatus.IN_PROGRESS, note="証明書確認中")

    applications.update_application(app, applicant, breakout_usage="auth_only")  # column A
    t1_02.refresh_from_db()
    assert (t1_02.active, t1_02.status, t1_02.note) == (
        True,
        ItemStatus.IN_PROGRESS,
        "証明書確認中",
    )
    assert "利用方法 A" in t1_02.reason
    t1_07.refresh_from_db()
    assert t1_07.active is False  # kept, with what was recorded, but no longer required
    assert (t1_07.status, t1_07.note, t1_07.owner) == (
        ItemStatus.DONE,
        "無害化装置を導入済み",
        security,
    )
    assert checklist.progress(app).total == app.checklist_items.filter(active=True).count()

    applications.update_application(app, applicant, breakout_usage="file_import")
    t1_07.refresh_from_db()
    assert (t1_07.active, t1_07.status) == (True, ItemStatus.DONE)
    ids = list(app.checklist_items.filter(active=True).values_list("item_id", flat=True))
    assert ids == [e["id"] for e in app.latest_judgement.decision["required"]]


def test_progress_counts_done_and_not_applicable(make_application, applicant):
    app = make_application(confidentiality="2", method="lgwan_asp", breakout_usage="")
    rows = list(app.checklist_items.all())
    checklist.update_item(rows[0], applicant, status=ItemStatus.DONE)
    checklist.update_item(rows[1], applicant, status=ItemStatus.NOT_APPLICABLE, na_reason="対象外")
    checklist.update_item(rows[2], applicant, status=ItemStatus.IN_PROGRESS)
    progress = checklist.progress(app)
    assert (progress.resolved, progress.total) == (2, len(rows))
    checklist.attach_progress([app])
    assert app.progress == progress
