"""Reminder digests, sent through Django's SMTP backend to a real SMTP server
(aiosmtpd) listening on 127.0.0.1 for the test: one mail a day per person,
listing their items; a second run on the same day and --dry-run send nothing."""

from __future__ import annotations

import datetime
import email
import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from cloudjudge.web.accounts.models import Role
from cloudjudge.web.register import checklist, workflow
from cloudjudge.web.register.models import ItemStatus, ReminderLog, Status
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PAST = TODAY - datetime.timedelta(days=3)
FUTURE = TODAY + datetime.timedelta(days=3)
STORAGE_OVER_INTERNET_PC = {
    "confidentiality": "3B",
    "method": "internet_pc",
    "breakout_usage": "",
    "limited_external_sharing": True,
}


def send(*args: str) -> str:
    out = io.StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def text_of(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def html_of(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


# --------------------------------------------------------------------------- the register


@pytest.fixture
def world(make_user, make_application, applicant, colleague, security, ciso, other_department):
    """Who should be told what on TODAY."""
    for user, address in (
        (applicant, "hanako@city.example.jp"),
        (colleague, "colleague@city.example.jp"),
        (security, "security@city.example.jp"),
        (ciso, "ciso@city.example.jp"),
    ):
        user.email = address
        user.save()
    make_user(Role.SECURITY, email="retired@city.example.jp", is_active=False)
    make_user(Role.AUDITOR, email="auditor@city.example.jp")
    leaver = make_user(Role.APPLICANT, email="leaver@city.example.jp", is_active=False)
    outsider = make_user(Role.APPLICANT, other_department)  # no e-mail address

    w = type("World", (), {})()
    # Awaiting review: a permitted one (security only) and one needing the CISO.
    w.plain = make_application()
    workflow.perform(w.plain, Step.SUBMIT, applicant)
    w.needs_ciso = make_application(**STORAGE_OVER_INTERNET_PC)
    assert w.needs_ciso.needs_ciso_approval
    workflow.perform(w.needs_ciso, Step.SUBMIT, applicant)

    # Checklist items past due: owned by the colleague, by nobody (→ the
    # applicant), by an inactive user; plus one not yet due and one done.
    w.draft = make_application()
    items = list(w.draft.checklist_items.filter(active=True).order_by("position"))
    w.colleagues_item, w.unowned_item, leavers_item, not_due, done = items[:5]
    checklist.update_item(w.colleagues_item, applicant, owner=colleague, due_date=PAST)
    checklist.update_item(w.unowned_item, applicant, status=ItemStatus.IN_PROGRESS, due_date=PAST)
    checklist.update_item(leavers_item, applicant, owner=leaver, due_date=PAST)
    checklist.update_item(not_due, applicant, owner=colleague, due_date=TODAY)
    checklist.update_item(done, applicant, owner=colleague, status=ItemStatus.DONE, due_date=PAST)
    w.outsiders_app = make_application(user=outsider)
    outsiders_item = w.outsiders_app.checklist_items.first()
    checklist.update_item(outsiders_item, outsider, due_date=PAST)

    # In use: a review due in 10 days, and one due today (moves to 見直し期限).
    w.soon, w.today = make_application(), make_application()
    for app, due in ((w.soon, TODAY + datetime.timedelta(days=10)), (w.today, TODAY)):
        workflow.perform(app, Step.SUBMIT, applicant)
        workflow.perform(app, Step.APPROVE, security)
        app.checklist_items.update(status="done")  # 利用開始 needs them resolved
        workflow.perform(app, Step.START_USE, applicant)
        type(app).objects.filter(pk=app.pk).update(review_due=due)
    w.far = make_application()  # in use, review a year away: nobody is told
    for action, actor in ((Step.SUBMIT, applicant), (Step.APPROVE, security)):
        workflow.perform(w.far, action, actor)
    w.far.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(w.far, Step.START_USE, applicant)
    return w


# --------------------------------------------------------------------------- tests


def test_each_person_gets_one_digest_listing_their_items(smtp, world, applicant, colleague):
    output = send("--date", TODAY.isoformat())

    assert smtp.recipients() == Counter(
        {
            "security@city.example.jp": 1,
            "ciso@city.example.jp": 1,
            "hanako@city.example.jp": 1,
            "colleague@city.example.jp": 1,
        }
    )
    w = world

    (security_mail,) = smtp.to("security@city.example.jp")
    body = text_of(security_mail)
    assert (
        security_mail["Subject"].strip()
        == f"【クラウドサービス利用判断】{TODAY:%Y-%m-%d} のお知らせ（4 件）"
    )
    assert security_mail["From"] == "cloudjudge@city.example.jp"
    assert "審査待ちの申請（2 件）" in body
    assert w.plain.number in body and w.needs_ciso.number in body
    assert w.soon.number in body and w.today.number in body
    assert "期限を過ぎたチェックリスト項目" not in body
    assert w.far.number not in body
    detail = reverse("register:detail", args=[w.needs_ciso.pk])
    assert f"https://cloudjudge.city.example.jp{detail}" in body
    assert f'href="https://cloudjudge.city.example.jp{detail}"' in html_of(security_mail)

    (ciso_mail,) = smtp.to("ciso@city.example.jp")
    body = text_of(ciso_mail)
    assert "審査待ちの申請（1 件）" in body and w.needs_ciso.number in body
    # The one status line of the register, the page and the exports (workflow.state_of).
    assert "申請中・セキュリティ担当の確認待ち" in body
    assert "CISO の承認が必要" not in body and "要承認" not in body
    assert w.plain.number not in body  # the CISO only hears of what needs the CISO
    assert w.soon.number not in body

    (applicant_mail,) = smtp.to("hanako@city.example.jp")
    body = text_of(applicant_mail)
    assert body.startswith("申請 花子 様\n")
    assert "期限を過ぎたチェックリスト項目（1 件）" in body
    assert f"{w.unowned_item.item_id} {w.unowned_item.title}" in body
    assert "対応中" in body and "担当者未設定" in body
    assert f"{w.colleagues_item.item_id} {w.colleagues_item.title}" not in body
    assert f"{w.soon.number} " in body and f"{w.today.number} " in body
    assert "（本日）" in body and "見直し期限" in body
    assert "審査待ち" not in body

    (colleague_mail,) = smtp.to("colleague@city.example.jp")
    body = text_of(colleague_mail)
    assert "期限を過ぎたチェックリスト項目（1 件）" in body
    assert f"{w.colleagues_item.item_id} {w.colleagues_item.title}" in body
    assert f"期限 {PAST:%Y-%m-%d}" in body
    item_url = reverse("register:checklist_item", args=[w.draft.pk, w.colleagues_item.pk])
    assert item_url in body

    # Reviews that have come due moved first; the far one did not.
    w.today.refresh_from_db()
    w.soon.refresh_from_db()
    assert (w.today.status, w.soon.status) == (Status.REVIEW_DUE, Status.IN_USE)

    # The summary: a line per recipient, the skipped ones, a total.
    assert "見直し期限に移行した申請: 1 件" in output
    assert output.count("送信しました: ") == 4
    assert "送信しました: 申請 花子" in output and "<hanako@city.example.jp>" in output
    assert "スキップ（無効なユーザー）" in output and "leaver@city.example.jp" in output
    assert "スキップ（メールアドレス未登録）" in output
    assert "retired@city.example.jp" not in output  # an inactive reviewer has nothing to see
    assert "合計: 送信 4 通、スキップ 2 名、失敗 0 通" in output
    logs = ReminderLog.objects.filter(date=TODAY)
    assert {log.user.email for log in logs} == set(smtp.recipients())
    assert logs.get(user=applicant).item_count == 3
    assert logs.get(user=colleague).item_count == 1


def test_a_second_run_on_the_same_day_sends_nothing(smtp, world):
    send("--date", TODAY.isoformat())
    assert len(smtp.messages) == 4
    again = send("--date", TODAY.isoformat())
    assert len(smtp.messages) == 4
    assert again.count(f"スキップ（{TODAY:%Y-%m-%d} 分は送信済み）") == 4
    assert "合計: 送信 0 通、スキップ 6 名、失敗 0 通" in again
    assert ReminderLog.objects.count() == 4
    # The next day is another digest.
    send("--date", (TODAY + datetime.timedelta(days=1)).isoformat())
    assert len(smtp.messages) == 8


def test_dry_run_sends_nothing_and_changes_nothing(smtp, world):
    output = send("--dry-run", "--date", TODAY.isoformat())
    assert smtp.messages == []
    assert not ReminderLog.objects.exists()
    world.today.refresh_from_db()
    assert world.today.status == Status.IN_USE
    assert "見直し期限に移行する申請: 1 件" in output
    assert output.count("送信予定: ") == 4
    assert "合計（--dry-run、送信していません）: 送信予定 4 通、スキップ 2 名" in output
    # …and does not count as today's digest.
    send("--date", TODAY.isoformat())
    assert len(smtp.messages) == 4


def test_a_refused_digest_is_reported_and_retried_by_the_next_run(smtp, world):
    smtp.refuse.add("colleague@city.example.jp")
    with pytest.raises(CommandError, match="1 通"):
        send("--date", TODAY.isoformat())
    assert len(smtp.messages) == 3
    assert not ReminderLog.objects.filter(user__email="colleague@city.example.jp").exists()
    smtp.refuse.clear()
    output = send("--date", TODAY.isoformat())
    assert smtp.recipients()["colleague@city.example.jp"] == 1
    assert len(smtp.messages) == 4
    assert "合計: 送信 1 通、スキップ 5 名、失敗 0 通" in output


def test_nothing_to_say_sends_nothing(smtp, security):
    security.email = "security@city.example.jp"
    security.save()
    output = send()
    assert smtp.messages == []
    assert "合計: 送信 0 通、スキップ 0 名、失敗 0 通（対象 0 名、0 件）" in output


def test_a_bad_date_is_a_usage_error():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--date", "2026/11/27")
