"""Forms and words: no internal code on the application form, 表1 A/B/C in
the criteria's words, a draft saved before everything is stated (submitting
names what is missing), an exception ground needing its explanation, the
registry status of a service picked from the register, messages as a clerk
writes them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cloudjudge.labels import USAGE_LABELS
from cloudjudge.web.register.models import Application, Status

from .test_views import form_data

pytestmark = pytest.mark.django_db

CODES = re.compile(r"\b(auth_only|no_file_import|file_import|local_breakout|internet_pc)\b")


def shown_text(html: str) -> str:
    """What the user reads: no tags, no attribute values."""
    return re.sub(r"<[^>]+>", " ", html)


def test_the_new_form_preselects_no_breakout_usage_and_says_a_b_c(login, applicant):
    html = login(applicant).get(reverse("register:create")).content.decode()
    assert "ローカルブレイクアウト方式ではない" not in html
    usage = re.findall(r'<input type="radio" name="breakout_usage"[^>]*>', html)
    assert len(usage) == 3 and not any("checked" in tag for tag in usage)
    text = shown_text(html)
    for words in USAGE_LABELS.values():  # 表1 A/B/C in the one vocabulary
        assert words in text


def test_a_missing_breakout_usage_is_said_without_codes(login, applicant):
    response = login(applicant).post(
        reverse("register:create"), form_data(breakout_usage="", save=None, submit="1")
    )
    html = response.content.decode()
    assert "ローカルブレイクアウト方式では、利用方法（表1 の A・B・C）を選んでください。" in html
    assert not CODES.search(shown_text(html))
    preview = login(applicant).post(
        reverse("register:preview"), {"method": "local_breakout", "confidentiality": "3B"}
    )
    assert not CODES.search(shown_text(preview.content.decode()))


def test_a_draft_is_saved_with_required_facts_missing(login, applicant):
    client = login(applicant)
    data = form_data(purpose="", confidentiality="", method="", breakout_usage="")
    response = client.post(reverse("register:create"), data, follow=True)
    app = Application.objects.get()
    assert app.status == Status.DRAFT and app.latest_judgement is None and app.verdict == ""
    assert (
        "下書きを保存しました。必須の項目がそろった時点で判定します。" in response.content.decode()
    )

    # submitting names the fields still to fill in, and submits nothing
    edit = reverse("register:edit", args=[app.pk])
    data = form_data(
        service=str(app.service_id),
        purpose="",
        confidentiality="",
        method="",
        save=None,
        submit="1",
    )
    for key in ("new_service-name", "new_service-provider", "new_service-listings"):
        data.pop(key)
    response = client.post(edit, data)
    html = response.content.decode()
    assert "利用申請は提出されていません。次の項目を入力してください:" in html
    for label in ("利用目的", "機密性", "接続方法"):
        assert label in html
    app.refresh_from_db()
    assert app.status == Status.DRAFT

    # the applicant's list and the API show the draft without failing
    assert app.number in client.get(reverse("register:list")).content.decode()
    assert client.get(f"/api/v1/applications/{app.pk}").json()["confidentiality"] == ""

    # completed, it is judged and submitted
    data.update(purpose="Web 会議", confidentiality="3B", method="local_breakout")
    response = client.post(edit, data, follow=True)
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED and app.verdict == "permitted"
    assert "利用申請を提出しました。" in response.content.decode()


def test_an_exception_ground_needs_its_explanation(login, applicant):
    client = login(applicant)
    data = form_data(
        method="internet_pc", breakout_usage="", limited_external_sharing="on", exception_note=""
    )
    response = client.post(reverse("register:create"), data)
    assert response.status_code == 200 and Application.objects.count() == 0
    assert "申し立てた例外の理由（" in response.content.decode()
    data["exception_note"] = "取引先との図面共有は当該サービスに限られるため"
    assert client.post(reverse("register:create"), data).status_code == 302
    assert Application.objects.get().limited_external_sharing is True


def test_a_service_from_the_register_shows_its_registry_status(login, applicant, make_service):
    service = make_service(name="登録済みサービス", listings=("ismap",))
    client = login(applicant)
    form = client.get(reverse("register:create")).content.decode()
    assert 'id="new-service"' in form  # the block app.js hides once a service is picked
    assert 'hx-trigger="change from:#id_service"' in form
    status = client.get(reverse("register:service_status"), {"service": service.pk})
    html = status.content.decode()
    assert "登録済みサービス の本日の登録状況" in html
    assert "ISMAP" in html and "判定に反映" in html
    assert client.get(reverse("register:service_status")).content.decode().strip() == ""


def test_step_messages_read_as_a_clerk_writes_them(login, applicant, make_application):
    app = make_application()
    response = login(applicant).post(
        reverse("register:action", args=[app.pk]), {"action": "submit"}, follow=True
    )
    html = response.content.decode()
    assert "利用申請を提出しました。" in html
    assert "を実行しました" not in html and "完了しました" not in html
