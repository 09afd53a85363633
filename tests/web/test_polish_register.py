"""What a user sees after the polish of the register: the paginated review
queue, the exit walk ticking its checklist rows, ended services without a
review date, labels instead of codes, and the live form's wiring (its
behaviour in a browser is in ``e2e/test_polish_form.py``)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cloudjudge.web.audit.models import AuditEntry
from cloudjudge.web.register import checklist, evidence, overview, reminders, workflow
from cloudjudge.web.register.models import Application, ItemStatus, Status
from cloudjudge.web.register.views import PAGE_SIZE
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def text_of(html: str) -> str:
    """The page as read: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --------------------------------------------------------------------------- review queue


def test_the_review_queue_is_paginated_like_the_register(
    login, make_application, applicant, security
):
    submitted = []
    for _ in range(PAGE_SIZE + 2):
        app = make_application()
        workflow.perform(app, Step.SUBMIT, applicant)
        submitted.append(app)
    client = login(security)

    first = client.get(reverse("register:reviews"))
    html = first.content.decode()
    assert len(first.context["applications"]) == PAGE_SIZE
    assert f"{PAGE_SIZE + 2} 件" in text_of(html)
    assert "1 / 2 ページ" in text_of(html)
    assert re.search(r'<a href="\?page=2" rel="next">', html)
    # Oldest submissions first: the first page holds the first 25.
    assert submitted[0].number in html and submitted[-1].number not in html

    second = client.get(reverse("register:reviews"), {"page": 2})
    html = second.content.decode()
    assert [a.number for a in second.context["applications"]] == [
        a.number for a in submitted[PAGE_SIZE:]
    ]
    assert re.search(r'<a href="\?page=1" rel="prev">', html)
    assert "2 / 2 ページ" in text_of(html)
    # Past the end: the last page, not an error.
    assert client.get(reverse("register:reviews"), {"page": 99}).context["page"].number == 2


def test_a_short_review_queue_has_no_pager(login, make_application, applicant, security):
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    html = login(security).get(reverse("register:reviews")).content.decode()
    assert app.number in html
    assert 'class="pager"' not in html


# --------------------------------------------------------------------------- exit walk


def _ending(make_application, applicant, security):
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, security, "確認しました")
    # 利用開始 with the rows still open: a conditional approval names them.
    due = timezone.localdate() + datetime.timedelta(days=30)
    workflow.approve_conditionally(
        app, security, [workflow.Condition(i, applicant, due) for i in workflow.open_rows(app)]
    )
    workflow.perform(app, Step.START_USE, applicant)
    workflow.perform(app, Step.BEGIN_EXIT, applicant)
    return app


def _walk_exit(app, applicant):
    workflow.complete_exit_step(app, "EXIT-1", applicant, "移行済み")
    cert = SimpleUploadedFile("証明書.pdf", b"%PDF-1.4 certificate")
    evidence.store(app, cert, applicant, exit_step="EXIT-2")
    workflow.complete_exit_step(app, "EXIT-2", applicant)
    workflow.complete_exit_step(app, "EXIT-3", applicant, "廃棄確認")


def test_completing_an_exit_step_ticks_its_checklist_row(
    login, make_application, applicant, security
):
    app = _ending(make_application, applicant, security)
    rows = {r.item_id: r for r in app.checklist_items.filter(item_id__startswith="EXIT-")}
    assert sorted(rows) == ["EXIT-1", "EXIT-2", "EXIT-3"]
    assert {r.status for r in rows.values()} == {ItemStatus.TODO}
    checklist.update_item(rows["EXIT-3"], applicant, note="廃棄業者は入札で選定")

    _walk_exit(app, applicant)

    today = timezone.localdate().isoformat()
    for item_id, row in rows.items():
        row.refresh_from_db()
        assert row.status == ItemStatus.DONE, item_id
        assert row.updated_by == applicant
        assert row.note.endswith(f"利用終了手続で完了（{today}）"), row.note
    assert rows["EXIT-3"].note.startswith("廃棄業者は入札で選定\n")  # kept, not replaced
    # Through checklist.update_item: each change is in the audit trail.
    audited = AuditEntry.objects.filter(
        object_type="register.checklistitem", object_id__in=[str(r.pk) for r in rows.values()]
    )
    assert {e.object_id for e in audited if (e.after or {}).get("status") == "done"} == {
        str(r.pk) for r in rows.values()
    }

    html = login(applicant).get(reverse("register:detail", args=[app.pk])).content.decode()
    table = re.search(r'<table class="checklist">.*?</table>', html, re.S)[0]
    for item_id in rows:
        row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", table, re.S) if f">{item_id}<" in r)
        # the row is edited in place: its status is the selected option
        assert re.search(r'<option value="done" selected>対応済</option>', row), item_id
        assert f"利用終了手続で完了（{today}）" in text_of(row)


def test_an_exit_step_leaves_a_row_already_resolved_or_retired_alone(
    make_application, applicant, security
):
    app = _ending(make_application, applicant, security)
    done = app.checklist_items.get(item_id="EXIT-1")
    checklist.update_item(done, security, status=ItemStatus.DONE, note="先行して移行済み")
    not_applicable = app.checklist_items.get(item_id="EXIT-2")
    checklist.update_item(
        not_applicable, security, status=ItemStatus.NOT_APPLICABLE, na_reason="庁内保管のみ"
    )
    retired = app.checklist_items.get(item_id="EXIT-3")
    type(retired).objects.filter(pk=retired.pk).update(active=False)

    _walk_exit(app, applicant)

    done.refresh_from_db()
    not_applicable.refresh_from_db()
    retired.refresh_from_db()
    assert (not_applicable.status, not_applicable.na_reason) == (
        ItemStatus.NOT_APPLICABLE,
        "庁内保管のみ",
    )
    assert (done.status, done.note) == (ItemStatus.DONE, "先行して移行済み")
    assert done.updated_by == security
    assert (retired.status, retired.note) == (ItemStatus.TODO, "")


# --------------------------------------------------------------------------- ended services


def test_an_ended_service_has_no_review_date(login, make_application, applicant, security):
    app = _ending(make_application, applicant, security)
    assert app.review_due is not None
    _walk_exit(app, applicant)
    workflow.perform(app, Step.END, applicant)
    app.refresh_from_db()
    assert app.status == Status.ENDED and app.review_due is None

    client = login(applicant)
    detail = text_of(client.get(reverse("register:detail", args=[app.pk])).content.decode())
    assert not re.search(r"見直し期限 \d{4}-\d{2}-\d{2}", detail)
    assert f"利用終了日 {timezone.localdate():%Y-%m-%d}" in detail


def test_an_ended_service_with_an_old_review_date_is_never_due(
    login, make_application, applicant, security, settings
):
    """An application ended before review dates were cleared keeps its date in
    the database: the list shows none, and no "reviews due" lists it."""
    in_use = _ending(make_application, applicant, security)
    Application.objects.filter(pk=in_use.pk).update(status=Status.IN_USE)
    ended = _ending(make_application, applicant, security)
    past = timezone.localdate() - datetime.timedelta(days=3)
    Application.objects.filter(pk__in=[in_use.pk, ended.pk]).update(review_due=past)
    Application.objects.filter(pk=ended.pk).update(status=Status.ENDED)

    assert list(overview.reviews_due_within(Application.objects.all())) == [in_use]
    board = login(security).get(reverse("register:dashboard")).context["board"]
    assert [a.pk for a in board.reviews_due] == [in_use.pk]
    assert workflow.mark_reviews_due() == 1  # the one in use only
    digests = reminders.collect(timezone.localdate())
    due = {a.pk for d in digests for a in d.reviews_due}
    assert due == {in_use.pk}

    html = login(applicant).get(reverse("register:list"), {"sort": "number"}).content.decode()
    rows = {
        number: text_of(row)
        for row in re.findall(r"<tr>.*?</tr>", html, re.S)
        for number in re.findall(r"CJ-\d{4}-\d{5}", row)
    }
    assert f"{past:%Y-%m-%d}" in rows[in_use.number]
    assert f"{past:%Y-%m-%d}" not in rows[ended.number]
    assert rows[ended.number].rstrip().endswith("—")


# --------------------------------------------------------------------------- labels, not codes


def test_the_detail_page_names_listings_and_certifications(
    login, make_application, make_service, applicant
):
    service = make_service(
        name="ラベル確認サービス", listings=("ismap", "lgwan_asp"), certs=("iso27001",)
    )
    app = make_application(service=service)
    html = login(applicant).get(reverse("register:detail", args=[app.pk])).content.decode()
    facts = text_of(re.search(r'<dl class="facts">.*?</dl>', html, re.S)[0])
    assert "ISMAP クラウドサービスリスト" in facts
    assert "LGWAN-ASP" in facts and "ISO/IEC 27001" in facts
    assert not re.search(r"\b(ismap|lgwan_asp|iso27001|local_breakout|file_import)\b", facts)
    assert "ローカルブレイクアウト方式" in facts
    assert "利用方法 C: 外部とファイル送受信を行い内部に取り込む" in facts


def test_the_judgement_page_shows_the_facts_in_words(login, make_application, applicant):
    app = make_application(my_number=True)
    judgement = app.latest_judgement
    html = (
        login(applicant)
        .get(reverse("register:judgement", args=[app.pk, judgement.pk]))
        .content.decode()
    )
    readable = re.sub(r"<details>.*?</details>", "", html, flags=re.S)  # the raw JSON, folded
    facts = text_of(re.search(r'<dl class="facts wide">.*?</dl>', readable, re.S)[0])
    for expected in (
        "判定に用いた申請内容",
        "接続方法 ローカルブレイクアウト方式",
        "ローカルブレイクアウトの利用方法 利用方法 C: 外部とファイル送受信を行い内部に取り込む",
        "機密性 自治体機密性 3B（重要情報資産）",
        "掲載・登録 ISMAP クラウドサービスリスト",
        "特定個人情報（マイナンバー）を取り扱う はい",
        "インターネット仮想パソコンを使用する いいえ",
    ):
        assert expected in text_of(readable), expected
    for code in ("local_breakout", "file_import", "ismap", "True", "False", "'3B'"):
        assert code not in facts, code
    assert "local_breakout" in html  # still there for whoever unfolds the JSON


def test_the_judgement_page_in_english(login, make_application, applicant):
    app = make_application()
    client = login(applicant)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(
        reverse("register:judgement", args=[app.pk, app.latest_judgement_id])
    ).content.decode()
    facts = text_of(re.search(r'<dl class="facts wide">.*?</dl>', html, re.S)[0])
    assert "Connection method Local breakout" in facts
    assert "Listings ISMAP cloud service list" in facts
    assert "My Number) No" in facts


# --------------------------------------------------------------------------- the live form


def test_the_form_loads_the_script_that_reports_preview_errors(login, applicant, client):
    html = login(applicant).get(reverse("register:create")).content.decode()
    assert re.search(r'<script src="/static/cloudjudge/app\.js" defer></script>', html)
    assert "<script>" not in html  # nothing inline: the CSP allows scripts from 'self' only
    verdict = re.search(r'<div id="verdict"[^>]*>', html)[0]
    message = "判定を更新できませんでした。保存して再度お試しください。"
    assert f'data-error-message="{message}"' in verdict
    script = b"".join(client.get("/static/cloudjudge/app.js").streaming_content).decode()
    for needed in ("htmx:responseError", "htmx:sendError", '"role", "alert"', "breakout_usage"):
        assert needed in script, needed


def test_the_preview_ignores_a_breakout_usage_left_over_from_local_breakout(login, applicant):
    client = login(applicant)
    facts = {
        "purpose": "電子申請",
        "confidentiality": "3B",
        "method": "lgwan_asp",
        "new_service-name": "LGWAN-ASP 電子申請",
        "new_service-listings": ["lgwan_asp"],
    }
    clean = client.post(reverse("register:preview"), facts)
    stale = client.post(reverse("register:preview"), {**facts, "breakout_usage": "file_import"})
    assert stale.status_code == 200 and stale.context["missing"] == []
    assert stale.context["decision"] == clean.context["decision"]
    assert "利用方法 C" not in stale.content.decode()
    assert "表1" not in text_of(stale.content.decode())
