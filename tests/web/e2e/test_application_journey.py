"""The whole life of one application, in a real browser, the way the staff of
a city live it: the applicant fills the form and watches the live verdict,
the security office and the CISO approve, the department puts the service
into use and later ends it through EXIT-1..3.

Every step is checked by what is on the screen (Japanese labels, status
badges, messages) and saved as ``var/screenshots/NN-step.png``.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from trestle.oscal.assessment_results import AssessmentResults

from cloudjudge.catalog.oscal import NAMESPACE
from cloudjudge.web.accounts.models import Department, Role, User

from .steps import act, expect_state, next_actor, status_line

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kumo-no-Ue-2026-e2e!"
SERVICE = "クラウド型ファイル共有サービス"


@pytest.fixture
def people(transactional_db, totp_device):
    shimin = Department.objects.create(code="shimin", name="市民人権局 市民課")
    security_dept = Department.objects.create(code="security", name="総務局 情報セキュリティ課")

    def user(username, role, dept, last, first):
        return User.objects.create_user(
            username=username,
            password=PASSWORD,
            role=role,
            department=dept,
            last_name=last,
            first_name=first,
            email=f"{username}@city.example.jp",
        )

    applicant = user("hanako", Role.APPLICANT, shimin, "市民", "花子")
    security = user("mamoru", Role.SECURITY, security_dept, "安全", "守")
    ciso = user("sekinin", Role.CISO, None, "統括", "責任")
    # Reviewers will have to pass a TOTP check after the password (MFA work):
    # their devices exist from the start, so the test passes before and after.
    return {
        "applicant": (applicant, None),
        "security": (security, totp_device(security)),
        "ciso": (ciso, totp_device(ciso)),
    }


def verdict(page: Page):
    return page.locator("#verdict")


def test_application_journey(page: Page, people, shot, log_in, log_out, certificate_pdf):
    applicant, _ = people["applicant"]
    security, security_device = people["security"]
    ciso, ciso_device = people["ciso"]

    # ------------------------------------------------------------ the applicant applies
    log_in(page, applicant.username, PASSWORD, shot=shot, step="login")
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    expect(page.locator("header")).to_contain_text("市民 花子（申請者・市民人権局 市民課）")
    shot(page, "dashboard-applicant")

    page.get_by_role("navigation").get_by_role("link", name="新規申請").click()
    expect(page.get_by_role("heading", name="新規申請")).to_be_visible()
    expect(verdict(page)).to_contain_text("入力すると判定が表示されます")

    # A service not in the register yet, on the ISMAP list.
    page.get_by_label("サービス名").fill(SERVICE)
    page.get_by_label("提供事業者").fill("株式会社サンプルクラウド")
    page.get_by_label("ISMAP クラウドサービスリスト").check()
    page.get_by_label("利用目的").fill("委託先の設計事業者との図面ファイルの共有。")
    page.get_by_label("自治体機密性 3B（重要情報資産）", exact=True).check()

    # Local breakout, files brought in: permitted with the measures of 表1 C.
    page.get_by_label("ローカルブレイクアウト方式", exact=True).check()
    page.get_by_label("利用方法 C: 外部とファイル送受信を行い内部に取り込む", exact=True).check()
    expect(verdict(page)).to_contain_text("判定: 利用可")
    expect(verdict(page)).to_contain_text("必要な対策")
    shot(page, "verdict-local-breakout")

    # The internet PC method with 3B information and no ground: prohibited.
    page.get_by_label("インターネットパソコン方式", exact=True).check()
    expect(verdict(page)).to_contain_text("判定: 禁止")
    # A prohibited decision gives its prohibitions only (issue #9 ruling 4).
    expect(verdict(page).locator(".findings")).to_contain_text("原則禁止")
    expect(verdict(page).locator(".findings")).to_contain_text("3.1(1)(ウ)②")
    # …and, live, the ways out of it (remedies), with no measures listed.
    expect(verdict(page).locator("section.remedies")).to_contain_text("利用できるようにする変更")
    expect(verdict(page).locator("ol.remedies > li").first).to_contain_text("→")
    expect(verdict(page)).to_contain_text("禁止のため、対策は求めません。")
    shot(page, "verdict-internet-pc-prohibited")

    # Submitting it now warns first and shows the remedies: it is only saved as a draft.
    page.get_by_role("button", name="保存して申請").click()
    expect(page.get_by_role("heading", name="確認：申請する")).to_be_visible()
    expect(page.locator(".prohibited-warning")).to_contain_text("判定は「禁止」です。")
    expect(page.locator("ul.remedies li").first).to_be_visible()
    expect_state(page, "下書き・申請者", "申請者")
    shot(page, "prohibited-submit-remedies")
    page.get_by_role("link", name="申請内容を変更する").click()
    expect(page.get_by_label("例外の根拠")).to_be_visible()

    # The ground for the exception: allowed only with the CISO's approval.
    page.get_by_label("外部事業者との情報共有・ファイル共有の実現方法が限られる").check()
    page.get_by_label("例外の根拠").fill(
        "委託先の設計事業者が LGWAN に接続できず、大容量の図面を共有する手段が他にないため。"
    )
    expect(verdict(page)).to_contain_text("判定: 承認が必要")
    expect(verdict(page)).to_contain_text("統括情報セキュリティ責任者の承認が必要")
    shot(page, "verdict-exception-needs-ciso")

    page.get_by_role("button", name="保存して申請").click()
    expect(page.locator(".messages")).to_contain_text("利用申請を提出しました。")
    expect(page.get_by_role("heading", level=1)).to_contain_text(SERVICE)
    expect_state(page, "申請中・セキュリティ担当の確認待ち", "セキュリティ担当")
    expect(page.locator(".badges")).not_to_contain_text("統括承認待ち")
    number = re.search(r"CJ-\d{4}-\d{5}", page.get_by_role("heading", level=1).inner_text())[0]
    shot(page, "submitted")
    log_out(page)

    # ------------------------------------------------------------ the security office approves
    log_in(
        page, security.username, PASSWORD, device=security_device, shot=shot, step="login-security"
    )
    page.get_by_role("navigation").get_by_role("link", name="審査待ち").click()
    expect(page.locator("main")).to_contain_text(number)
    shot(page, "review-queue-security")
    page.get_by_role("link", name=number).click()
    expect_state(page, "申請中・セキュリティ担当の確認待ち", "セキュリティ担当")
    # Approving asks first and lists the checklist rows still open.
    form = page.locator("form.action").filter(
        has=page.get_by_role("button", name="承認する", exact=True)
    )
    form.locator("textarea").fill("例外の根拠を確認しました。統括の承認をお願いします。")
    form.get_by_role("button", name="承認する", exact=True).click()
    expect(page.get_by_role("heading", name="確認：承認する")).to_be_visible()
    expect(page.locator("section.confirm")).to_contain_text("件のチェックリスト項目が未完了です")
    expect(page.locator("ul.open-rows li").first).to_be_visible()
    shot(page, "confirm-approve-open-rows")
    page.get_by_role("button", name="はい、承認する", exact=True).click()
    # A security office approval alone does not put the service into use.
    expect_state(
        page,
        "セキュリティ担当確認済・統括情報セキュリティ責任者の承認待ち",
        "統括情報セキュリティ責任者",
    )
    shot(page, "approved-security")
    log_out(page)

    # ------------------------------------------------------------ the CISO approves
    log_in(page, ciso.username, PASSWORD, device=ciso_device, shot=shot, step="login-ciso")
    page.get_by_role("navigation").get_by_role("link", name="審査待ち").click()
    page.get_by_role("link", name=number).click()
    act(
        page, "統括情報セキュリティ責任者として承認", comment="承認します。", shot=shot, step="ciso"
    )
    expect(status_line(page)).to_contain_text("承認済（統括承認 令和")
    expect(status_line(page)).to_contain_text("統括 責任")
    expect(next_actor(page)).to_have_text("次の対応: 申請者")
    # The verdict panel says who approved, not that the approval is needed.
    expect(page.locator("ul.approvals-given")).to_contain_text("統括情報セキュリティ責任者の承認")
    expect(page.locator("main")).not_to_contain_text("統括情報セキュリティ責任者の承認が必要です")
    shot(page, "approved-ciso")

    # The CISO lets the open rows stay open at 利用開始: owner and due date each.
    page.get_by_role("link", name="条件付き承認を記録する").click()
    rows = page.locator("form.conditional tbody tr")
    due = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    for i in range(rows.count()):
        row = rows.nth(i)
        row.locator("input[type=checkbox]").check()
        row.locator("select").select_option(index=1)
        row.locator("input[type=date]").fill(due)
    shot(page, "conditional-approval-form")
    page.get_by_role("button", name="条件付き承認を記録する").click()
    expect(page.locator(".messages")).to_contain_text("条件付き承認を記録しました。")
    expect(page.locator(".conditional-rows")).to_contain_text("未完了のまま認められています")
    shot(page, "conditional-approval-recorded")
    log_out(page)

    # ------------------------------------------------------------ in use, then ended
    log_in(page, applicant.username, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="台帳").click()
    expect(page.get_by_role("heading", name="クラウドサービス台帳")).to_be_visible()
    row = page.locator("table.register tbody tr").filter(has_text=number)
    expect(row).to_contain_text("承認済（統括承認 ")
    page.get_by_role("link", name=number).click()
    act(page, "利用を開始する", shot=shot, step="start-use")
    expect_state(page, "利用中", None)
    expect(page.locator("dl.facts")).to_contain_text("利用開始日")
    shot(page, "in-use")

    # The judgement and checklist status for other compliance tools (OSCAL, issue 13).
    with page.expect_download() as download_info:
        page.get_by_role("link", name="判定と対策の状況（OSCAL JSON）").click()
    download = download_info.value
    assert download.suggested_filename == f"判定結果_OSCAL_{number}.json"
    results = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    AssessmentResults.model_validate(results["assessment-results"])
    (result,) = results["assessment-results"]["results"]
    assert {"name": "verdict", "ns": NAMESPACE, "value": "approval_required"} in result["props"]

    act(page, "利用終了の手続を始める")
    expect_state(page, "利用終了手続中・申請者が EXIT-1〜3 を実施", "申請者")
    exit_walk = page.locator("ol.exit")
    expect(exit_walk).to_contain_text("EXIT-1")
    expect(exit_walk).to_contain_text("EXIT-3")
    # 終了 is offered but blocked until EXIT-1..3 are done.
    expect(page.get_by_role("button", name="利用を終了する")).to_be_disabled()
    shot(page, "ending")

    exit_1 = exit_walk.locator("li").filter(has_text="EXIT-1")
    exit_1.get_by_label("メモ").fill("後継サービスへ全データを移行し、件数を照合した。")
    exit_1.get_by_role("button", name="EXIT-1 を完了する").click()
    expect(page.locator(".messages")).to_contain_text("EXIT-1 を完了しました。")

    exit_2 = page.locator("ol.exit li").filter(has_text="EXIT-2")
    exit_2.get_by_label("削除証明書").set_input_files(certificate_pdf)
    exit_2.get_by_label("メモ").fill("事業者からデータ消去証明書を受領。")
    exit_2.get_by_role("button", name="EXIT-2 を完了する").click()
    expect(page.locator(".messages")).to_contain_text("EXIT-2 を完了しました。")
    expect(page.locator("section").filter(has=page.locator("ol.exit"))).to_contain_text(
        certificate_pdf.name
    )

    exit_3 = page.locator("ol.exit li").filter(has_text="EXIT-3")
    exit_3.get_by_role("button", name="EXIT-3 を完了する").click()
    expect(page.locator(".messages")).to_contain_text("EXIT-3 を完了しました。")
    shot(page, "exit-steps-done")

    act(page, "利用を終了する", shot=shot, step="end")
    expect_state(page, "終了", None)
    expect(page.locator("ol.history")).to_contain_text("利用終了手続中 → 終了")
    shot(page, "ended")

    page.get_by_role("navigation").get_by_role("link", name="台帳").click()
    expect(page.locator("table.register tbody tr").filter(has_text=number)).to_contain_text("終了")
    shot(page, "register-ended")
