"""The application form's live behaviour in a real browser (``static/cloudjudge/app.js``):

* the local breakout usage (A/B/C) is shown, and sent, only with local breakout;
* a preview that fails says so in the verdict panel instead of leaving it stale;
* the preview answers before the required fields are filled (it lists what is missing).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cloudjudge.web.accounts.models import Department, Role, User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kumo-no-Ue-2026-polish!"
PREVIEW = "**/applications/preview/"
ERROR = "判定を更新できませんでした。保存して再度お試しください。"


@pytest.fixture
def applicant(transactional_db):
    shimin = Department.objects.create(code="shimin", name="市民人権局 市民課")
    return User.objects.create_user(
        username="hanako",
        password=PASSWORD,
        role=Role.APPLICANT,
        department=shimin,
        last_name="市民",
        first_name="花子",
    )


@pytest.fixture
def form(page: Page, applicant, log_in) -> Page:
    log_in(page, applicant.username, PASSWORD)
    page.goto("/applications/new/")
    expect(page.get_by_role("heading", name="新規申請")).to_be_visible()
    return page


def usage(page: Page):
    return page.get_by_label("C：外部とファイル送受信を行い内部に取り込む", exact=True)


def test_the_breakout_usage_is_only_offered_with_local_breakout(form: Page):
    page = form
    expect(usage(page)).to_be_hidden()  # no method chosen yet
    page.get_by_label("サービス名").fill("クラウド型ファイル共有サービス")
    page.get_by_label("ISMAP クラウドサービスリスト").check()
    page.get_by_label("利用目的").fill("図面ファイルの共有。")
    page.get_by_label("3B（重要情報資産）", exact=True).check()
    page.get_by_label("ローカルブレイクアウト方式", exact=True).check()
    expect(usage(page)).to_be_visible()
    usage(page).check()
    expect(page.locator("#verdict")).to_contain_text("判定: 利用可")

    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if "/preview/" in r.url else None)
    with page.expect_response(PREVIEW):
        page.locator("input[name=method][value=lgwan_asp]").check()
    expect(usage(page)).to_be_hidden()
    expect(usage(page)).to_be_disabled()
    assert sent and "breakout_usage" not in sent[-1]

    # Back to local breakout: the choice made before is there again, and sent.
    with page.expect_response(PREVIEW):
        page.get_by_label("ローカルブレイクアウト方式", exact=True).check()
    expect(usage(page)).to_be_visible()
    expect(usage(page)).to_be_checked()
    assert "breakout_usage=file_import" in sent[-1]


def test_a_failed_preview_is_reported_in_the_panel(form: Page):
    page = form
    page.get_by_label("サービス名").fill("クラウド型ファイル共有サービス")
    page.get_by_label("利用目的").fill("図面ファイルの共有。")
    page.get_by_label("3B（重要情報資産）", exact=True).check()
    page.get_by_label("ローカルブレイクアウト方式", exact=True).check()
    usage(page).check()
    expect(page.locator("#verdict")).to_contain_text("判定:")

    page.route(PREVIEW, lambda route: route.fulfill(status=500, body="Server Error"))
    page.get_by_label("2", exact=True).check()
    alert = page.locator("#verdict [role=alert]")
    expect(alert).to_have_text(ERROR)
    expect(page.locator("#verdict")).not_to_contain_text("判定:")  # nothing stale left
    page.unroute(PREVIEW)

    page.route(PREVIEW, lambda route: route.abort())  # no answer at all
    page.get_by_label("3C（重要情報資産）", exact=True).check()
    expect(alert).to_have_text(ERROR)
    page.unroute(PREVIEW)

    page.get_by_label("3B（重要情報資産）", exact=True).check()
    expect(page.locator("#verdict")).to_contain_text("判定:")
    expect(alert).to_have_count(0)


def test_the_preview_lists_what_is_missing_before_the_form_is_complete(form: Page):
    page = form
    with page.expect_response(PREVIEW):
        page.get_by_label("ローカルブレイクアウト方式", exact=True).check()
    missing = page.locator("#verdict .missing")
    expect(missing).to_contain_text("機密性")
    expect(missing).to_contain_text("ローカルブレイクアウトの利用方法")
