"""One journey per role, in Chromium, the way each of them works an
application: the applicant (the department's 情報システム管理者), the
security office, the CISO and the auditor.

At every step the page shows one status line and who acts next
(``workflow.state_of``), and nothing beside it contradicts it (no 統括承認待ち
next to 承認済, no 承認が必要 once approved, no 要承認 beside 禁止). What
another role did before is set up through the workflow itself, so each
journey walks only its own steps. Screenshots of every step under
``var/screenshots/<role>/``.
"""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.register import applications, workflow
from cloudjudge.web.register.models import Application, ItemStatus, Service, Status
from cloudjudge.web.register.workflow import Step
from support.smtp import smtp  # noqa: F401 (a fixture: a real SMTP server on loopback)

from .conftest import SCREENSHOTS, Screenshots
from .steps import act, action_button, expect_state, status_line

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kumo-no-Ue-2026-roles!"
DAY = datetime.timedelta(days=1)
LOCAL_BREAKOUT = {
    "purpose": "委託先との図面ファイルの共有",
    "confidentiality": "3B",
    "method": "local_breakout",
    "breakout_usage": "file_import",
}
#: 3B over the internet PC method on a ground of 3.1(1)(ウ): the CISO approves.
NEEDS_CISO = {
    "purpose": "委託先との大容量ファイルの共有",
    "confidentiality": "3B",
    "method": "internet_pc",
    "breakout_usage": "",
    "limited_external_sharing": True,
    "exception_note": "委託先が LGWAN に接続できず、共有の手段が他にないため。",
}
#: 3A information may not leave the city: prohibited.
PROHIBITED = {**LOCAL_BREAKOUT, "confidentiality": "3A"}


@pytest.fixture
def people(transactional_db, totp_device):
    shimin = Department.objects.create(code="shimin", name="市民人権局 市民課")
    office = Department.objects.create(code="security", name="総務局 情報セキュリティ課")

    def user(username, role, dept, last, first):
        person = User.objects.create_user(
            username=username,
            password=PASSWORD,
            role=role,
            department=dept,
            last_name=last,
            first_name=first,
            email=f"{username}@city.example.jp",
        )
        return person, (totp_device(person) if role != Role.APPLICANT else None)

    return {
        "applicant": user("hanako", Role.APPLICANT, shimin, "市民", "花子"),
        "colleague": user("taro", Role.APPLICANT, shimin, "市民", "太郎"),
        "security": user("mamoru", Role.SECURITY, office, "安全", "守"),
        "ciso": user("sekinin", Role.CISO, None, "統括", "責任"),
        "auditor": user("kansa", Role.AUDITOR, None, "監査", "正"),
    }


def application(people, name: str, facts: dict, *, listings=("ismap",), provider="") -> Application:
    applicant, _ = people["applicant"]
    service = Service(name=name, provider=provider or "株式会社サンプルクラウド")
    service.listings = list(listings)
    service.save()
    return applications.create_application(applicant, service, **facts)


def open_application(page: Page, app: Application) -> None:
    page.goto(f"/applications/{app.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(app.number)


def your_work(page: Page):
    """The dashboard's first section, 「あなたの対応が必要な申請」."""
    return page.locator("section.your-work")


def expect_listed_for_me(page: Page, app: Application, line: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name="ダッシュボード").click()
    expect(your_work(page).get_by_role("heading")).to_have_text("あなたの対応が必要な申請")
    row = your_work(page).locator("tbody tr").filter(has_text=app.number)
    expect(row).to_contain_text(line)


def offset_top(page: Page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().top + scrollY")


# --------------------------------------------------------------------------- the applicant


def test_the_applicant_journey(page: Page, people, log_in):
    shot = Screenshots(SCREENSHOTS / "applicant")
    applicant, _ = people["applicant"]
    security, _ = people["security"]
    log_in(page, applicant.username, PASSWORD)
    expect(your_work(page)).to_contain_text("対応が必要な申請はありません。")
    shot(page, "dashboard-empty")

    # A draft is saved with required facts still empty; it is judged once they are filled in.
    page.get_by_role("navigation").get_by_role("link", name="新規申請").click()
    page.get_by_label("サービス名").fill("クラウド型図面共有サービス")
    page.get_by_label("提供事業者").fill("株式会社サンプルクラウド")
    page.get_by_label("ISMAP クラウドサービスリスト").check()
    page.get_by_role("button", name="下書き保存").click()
    expect(page.locator(".messages")).to_contain_text(
        "下書きを保存しました。必須の項目がそろった時点で判定します。"
    )
    expect_state(page, "下書き・申請者", "申請者")
    number = re.search(r"CJ-\d{4}-\d{5}", page.get_by_role("heading", level=1).inner_text())[0]
    app = Application.objects.get(number=number)
    shot(page, "draft-saved-incomplete")

    # Submitting checks them, and names the fields to fill in.
    page.get_by_role("link", name="編集", exact=True).click()
    page.get_by_role("button", name="保存して申請").click()
    expect(page.locator(".messages")).to_contain_text("利用申請は提出されていません。")
    expect(page.locator(".messages")).to_contain_text("利用目的")
    shot(page, "submit-refused-missing")

    # A prohibited submission warns first and shows its remedies; nothing is submitted.
    page.get_by_label("利用目的").fill("委託先の設計事業者との図面ファイルの共有。")
    page.get_by_label("自治体機密性 3B（重要情報資産）", exact=True).check()
    page.get_by_label("インターネットパソコン方式", exact=True).check()
    expect(page.locator("#verdict")).to_contain_text("判定: 禁止")
    page.get_by_role("button", name="保存して申請").click()
    expect(page.get_by_role("heading", name="確認：申請する")).to_be_visible()
    expect(page.locator(".prohibited-warning")).to_contain_text("判定は「禁止」です。")
    expect(page.locator("ul.remedies li").first).to_contain_text("→")
    expect_state(page, "下書き・申請者", "申請者")
    shot(page, "prohibited-submit-remedies")

    # Following a remedy: local breakout, files brought in (表1 C).
    page.get_by_role("link", name="申請内容を変更する").click()
    page.get_by_label("ローカルブレイクアウト方式", exact=True).check()
    page.get_by_label("利用方法 C: 外部とファイル送受信を行い内部に取り込む", exact=True).check()
    expect(page.locator("#verdict")).to_contain_text("判定: 利用可")
    page.get_by_role("button", name="保存して申請").click()
    expect(page.locator(".messages")).to_contain_text("利用申請を提出しました。")
    expect_state(page, "申請中・セキュリティ担当の確認待ち", "セキュリティ担当")
    expect(action_button(page, "承認する")).to_have_count(0)  # not the applicant's step
    shot(page, "submitted")

    # The security office returns it: the reason is on top of the page and of the form.
    app.refresh_from_db()
    reason = "利用者の範囲と、取り込むファイルのウイルス対策の方法を追記してください。"
    workflow.perform(app, Step.RETURN, security, reason)
    expect_listed_for_me(page, app, "差戻し・申請者の修正待ち")
    shot(page, "dashboard-returned")
    your_work(page).get_by_role("link", name=number).click()
    expect_state(page, "差戻し・申請者の修正待ち", "申請者")
    comment = page.locator("section.reviewer-comment")
    expect(comment.get_by_role("heading")).to_have_text("差戻しの理由")
    expect(comment).to_contain_text(reason)
    expect(comment).to_contain_text("安全 守")
    assert offset_top(page, "section.reviewer-comment") < offset_top(page, "#checklist")
    assert offset_top(page, "section.reviewer-comment") < offset_top(page, "section.actions")
    shot(page, "returned-comment-on-top")
    page.get_by_role("link", name="編集", exact=True).click()
    expect(page.locator("section.reviewer-comment")).to_contain_text(reason)
    assert offset_top(page, "section.reviewer-comment") < offset_top(page, "form.appform")
    page.get_by_label("利用目的").fill(
        "委託先の設計事業者との図面ファイルの共有（課内 5 名）。取込み時にウイルス検査を行う。"
    )
    shot(page, "edit-form-with-comment")
    page.get_by_role("button", name="保存して申請").click()
    expect(page.locator(".messages")).to_contain_text("利用申請を提出しました。")
    expect_state(page, "申請中・セキュリティ担当の確認待ち", "セキュリティ担当")
    expect(page.locator("section.reviewer-comment")).to_have_count(0)
    shot(page, "resubmitted")

    # Approved by the security office: the applicant acts next, and the dashboard says so.
    app.refresh_from_db()
    workflow.perform(app, Step.APPROVE, security, "確認しました。")
    expect_listed_for_me(page, app, "承認済（令和")
    your_work(page).get_by_role("link", name=number).click()
    expect_state(page, "承認済（", "申請者", exact=False)
    expect(status_line(page)).to_contain_text("安全 守")
    expect(page.locator("ul.approvals-given")).to_contain_text("セキュリティ担当の承認")

    # 利用開始 with open required rows is refused, with the reason, before anything is sent.
    start = action_button(page, "利用を開始する")
    expect(start).to_be_disabled()
    expect(page.locator("#blocked-start_use")).to_contain_text("必須のチェックリスト項目が")
    expect(page.locator("#blocked-start_use")).to_contain_text("件未完了です")
    shot(page, "start-use-refused")

    # The checklist, worked where it is: one row in place…
    items = list(app.checklist_items.filter(active=True).order_by("position"))
    first = items[-1]
    row = page.locator(f"#item-{first.pk}")
    row.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    due = (datetime.date.today() + 14 * DAY).isoformat()
    row.get_by_label(f"{first.item_id} 状態").select_option(label="対応中")
    row.get_by_label(f"{first.item_id} 担当者").select_option(label="市民 花子")
    row.get_by_label(f"{first.item_id} 期限").fill(due)
    row.get_by_label(f"{first.item_id} メモ").fill("手順書を作成中")
    row.get_by_role("button", name="保存").click()
    expect(row.get_by_role("status")).to_have_text("保存しました")
    assert page.evaluate("window.scrollY") == before  # the page stayed where the user was
    shot(page, "checklist-row-saved")
    # The row assigned to her is on her dashboard.
    page.get_by_role("navigation").get_by_role("link", name="ダッシュボード").click()
    mine = your_work(page).locator("ul.my-items")
    expect(your_work(page)).to_contain_text("あなたが担当のチェックリスト項目")
    expect(mine).to_contain_text(f"{number} {first.item_id}")
    shot(page, "dashboard-my-row")
    open_application(page, app)
    # …該当なし only with its reason…
    second = items[-2]
    row = page.locator(f"#item-{second.pk}")
    row.get_by_label(f"{second.item_id} 状態").select_option(label="該当なし")
    row.get_by_role("button", name="保存").click()
    expect(row.get_by_role("alert")).to_contain_text("該当しない理由を記入してください。")
    shot(page, "checklist-reason-missing")
    row.get_by_label(f"{second.item_id} 該当しない理由").fill("紙の書類を扱わない")
    row.get_by_role("button", name="保存").click()
    expect(row.get_by_role("status")).to_have_text("保存しました")
    # …and every other row at once.
    for item in [*items[:-2], first]:
        page.get_by_label(f"{item.item_id} を選択").check()
    bulk = page.locator("form#bulk")
    bulk.get_by_label("状態").select_option(label="対応済")
    bulk.get_by_role("button", name="選択した行に適用").click()
    expect(page.locator("#checklist").get_by_role("status").first).to_contain_text(
        f"{len(items) - 1} 行を更新しました"
    )
    expect(page.locator("#checklist")).to_contain_text(f"{len(items)} 件中 {len(items)} 件対応済")
    shot(page, "checklist-all-resolved")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.owner, str(first.due_date)) == (ItemStatus.DONE, applicant, due)
    assert (second.status, second.na_reason) == (ItemStatus.NOT_APPLICABLE, "紙の書類を扱わない")

    # With every row resolved, 利用開始 asks once and lists nothing open.
    page.reload()
    act(page, "利用を開始する", shot=shot, step="start-use", open_rows=False)
    expect_state(page, "利用中", None)
    page.get_by_role("navigation").get_by_role("link", name="ダッシュボード").click()
    expect(your_work(page)).not_to_contain_text(number)  # nothing left for the applicant
    shot(page, "dashboard-in-use")


# --------------------------------------------------------------------------- the security office

SAKURAGI, SAKURAGI_CO = "さくらぎクラウド基盤", "株式会社桜木システムズ"


ROOMS = "クラウド型会議室予約"


def ismap_list(audit_end: datetime.date) -> bytes:
    """The ISMAP list: さくらぎ with this audit-period end, and the room
    booking service listed for long (what the office approves stays listed)."""
    header = "登録番号,クラウドサービスの名称,事業者,監査対象期間の末日,更新申請中,取下げ・登録取消"
    rows = [
        f"C21-0101-1,{SAKURAGI},{SAKURAGI_CO},{audit_end:%Y/%m/%d},,",
        f"C22-0202-1,{ROOMS},株式会社サンプルクラウド,{datetime.date.today():%Y/%m/%d},,",
    ]
    return "\r\n".join([header, *rows, ""]).encode()


def audit_end_for_expiry(expiry: datetime.date) -> datetime.date:
    """An audit-period end whose 3.5 expiry is on or just before ``expiry``."""
    from cloudjudge.registries import expiry_from_audit_end

    day = expiry - 500 * DAY
    while expiry_from_audit_end(day + DAY) <= expiry:
        day += DAY
    return day


def upload_registry(page: Page, path, shot, step: str) -> None:
    page.goto("/registries/import/")
    expect(page.get_by_role("heading", name="登録簿の取込み")).to_be_visible()
    page.get_by_label("リストの種類").select_option("ismap")
    page.locator("input[type=file]").set_input_files(path)
    shot(page, step)
    page.locator("form.formpage").get_by_role("button", name="取り込む").click()
    expect(page.locator(".messages")).to_contain_text("ISMAP の登録簿を取り込みました")


def test_the_security_office_journey(page: Page, people, log_in, smtp, tmp_path):  # noqa: F811
    shot = Screenshots(SCREENSHOTS / "security")
    applicant, _ = people["applicant"]
    colleague, _ = people["colleague"]
    security, device = people["security"]
    today = datetime.date.today()
    to_approve = application(people, ROOMS, LOCAL_BREAKOUT)
    to_return = application(people, "クラウド型アンケート", LOCAL_BREAKOUT)
    in_use = application(people, SAKURAGI, LOCAL_BREAKOUT, provider="桜木システムズ（株）")
    for app in (to_approve, to_return, in_use):
        workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(in_use, Step.APPROVE, security, "確認しました。")
    in_use.checklist_items.update(status=ItemStatus.DONE)
    workflow.perform(in_use, Step.START_USE, applicant)

    log_in(page, security.username, PASSWORD, device=device)
    # The dashboard opens with what awaits the office's review.
    for app in (to_approve, to_return):
        row = your_work(page).locator("tbody tr").filter(has_text=app.number)
        expect(row).to_contain_text("申請中・セキュリティ担当の確認待ち")
    expect(your_work(page)).not_to_contain_text(in_use.number)
    shot(page, "dashboard-action-list")

    # Return with a comment: the applicant acts next, the comment is on top.
    your_work(page).get_by_role("link", name=to_return.number).click()
    expect_state(page, "申請中・セキュリティ担当の確認待ち", "セキュリティ担当")
    act(page, "差し戻す", comment="回答期限と個人情報の有無を記入してください。")
    expect_state(page, "差戻し・申請者の修正待ち", "申請者")
    expect(page.locator("section.reviewer-comment")).to_contain_text("回答期限と個人情報の有無")
    expect(action_button(page, "承認する")).to_have_count(0)
    shot(page, "returned")

    # Approve: the confirmation lists the rows still open.
    open_application(page, to_approve)
    act(page, "承認する", comment="確認しました。", shot=shot, step="approve", open_rows=True)
    expect_state(page, "承認済（", "申請者", exact=False)
    expect(page.locator("ul.approvals-given")).to_contain_text("セキュリティ担当の承認")
    shot(page, "approved")

    # A conditional approval: which rows stay open, each with an owner and a due date.
    page.get_by_role("link", name="条件付き承認を記録する").click()
    expect_state(page, "承認済（", "申請者", exact=False)
    due = (today + 30 * DAY).isoformat()
    rows = page.locator("form.conditional tbody tr")
    kept = rows.count()
    assert kept == len(workflow.open_rows(to_approve)) > 0
    for i in range(kept):
        row = rows.nth(i)
        row.locator("input[type=checkbox]").check()
        row.locator("select").select_option(label="市民 太郎")
    rows.nth(0).locator("input[type=date]").fill("")
    page.get_by_role("button", name="条件付き承認を記録する").click()
    # A row without its due date is refused, next to the row; nothing is recorded.
    expect(page.locator("form.conditional .error").first).to_be_visible()
    shot(page, "conditional-due-date-missing")
    to_approve.refresh_from_db()
    assert to_approve.conditionally_approved_at is None
    rows = page.locator("form.conditional tbody tr")
    for i in range(kept):
        rows.nth(i).locator("input[type=date]").fill(due)
    shot(page, "conditional-form")
    page.get_by_role("button", name="条件付き承認を記録する").click()
    expect(page.locator(".messages")).to_contain_text("条件付き承認を記録しました。")
    notice = page.locator(".conditional-rows")
    expect(notice).to_contain_text(
        f"条件付き承認により {kept} 件の項目が未完了のまま認められています"
    )
    expect(notice).to_contain_text("市民 太郎")
    expect(page.locator("ul.approvals-given")).to_contain_text("条件付き承認")
    expect_state(page, "承認済（", "申請者", exact=False)
    # 利用開始 is now open to the department.
    to_approve.refresh_from_db()
    assert workflow.blocked_by(to_approve, applicant, workflow.TRANSITIONS[Step.START_USE]) is None
    shot(page, "conditional-recorded")
    assert to_approve.checklist_items.filter(open_under_condition=True, owner=colleague).count()

    # The registry: the page says the list is not imported, then the import is current at once.
    open_application(page, in_use)
    expect_state(page, "利用中", None)
    expect(page.locator("section[aria-labelledby=judgement-heading]")).to_contain_text("未取込")
    shot(page, "in-use-registry-not-imported")
    listed = tmp_path / "ismap-v1.csv"
    listed.write_bytes(ismap_list(audit_end_for_expiry(today + 400 * DAY)))
    upload_registry(page, listed, shot, "import-listed")
    open_application(page, in_use)
    expect_state(page, "利用中", None)
    panel = page.locator("section[aria-labelledby=judgement-heading]")
    expect(panel).not_to_contain_text("未取込")
    expect(panel).to_contain_text("申告された掲載はすべて登録簿で確認できました")
    shot(page, "in-use-registry-confirmed")

    # A newer list where the listing has expired: the verdict gets worse.
    expired = tmp_path / "ismap-v2.csv"
    expired.write_bytes(ismap_list(audit_end_for_expiry(today - DAY)))
    upload_registry(page, expired, shot, "import-expired")
    open_application(page, in_use)
    expect_state(page, "見直しが必要（判定が変わりました）", "セキュリティ担当")
    worse = page.locator("section.worse-verdict")
    expect(worse).to_have_class(re.compile(r"\bdanger\b"))
    expect(worse).to_contain_text("判定が「利用可」から「禁止」に変わりました。")
    expect(worse).to_contain_text("次の対応")
    expect(worse).to_contain_text("禁止の判定では利用を継続できないため、差戻し・却下・利用終了")
    # …and the page offers exactly those: no 利用継続を確認 for a prohibited verdict.
    expect(action_button(page, "利用継続を確認")).to_have_count(0)
    expect(action_button(page, "差し戻す")).to_be_enabled()
    expect(action_button(page, "却下する")).to_be_enabled()
    expect(action_button(page, "利用終了の手続を始める")).to_be_enabled()
    expect(worse.get_by_role("link")).to_contain_text("利用可")  # the earlier judgement is kept
    panel = page.locator("section[aria-labelledby=judgement-heading]")
    expect(panel).to_contain_text("判定: 禁止")
    expect(panel).to_contain_text("申告された ISMAP 掲載は登録簿で確認できません（有効期限切れ")
    expect(page.locator("p.badges")).not_to_contain_text("利用中")
    shot(page, "needs-review-notice")
    # The dashboard lists it until someone acts.
    expect_listed_for_me(page, in_use, "見直しが必要（判定が変わりました）")
    shot(page, "dashboard-needs-review")
    # The office and the department are told by e-mail (a real SMTP server on loopback).
    (mail,) = smtp.to(security.email)  # one, for the one application that got worse
    assert "見直しが必要" in mail["Subject"] and in_use.number in mail["Subject"]
    body = mail.get_content()
    assert "判定が「利用可」から「禁止」に変わりました。" in body
    assert smtp.to(applicant.email) and smtp.to(colleague.email)


# --------------------------------------------------------------------------- the CISO


def test_the_ciso_journey(page: Page, people, log_in):
    shot = Screenshots(SCREENSHOTS / "ciso")
    applicant, _ = people["applicant"]
    security, _ = people["security"]
    ciso, device = people["ciso"]
    exception = application(people, "クラウド型大容量ファイル転送", NEEDS_CISO)
    prohibited = application(people, "海外クラウドストレージ", PROHIBITED)
    for app in (exception, prohibited):
        workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(exception, Step.APPROVE, security, "例外の根拠を確認しました。")
    assert exception.verdict == "approval_required" and prohibited.verdict == "prohibited"

    log_in(page, ciso.username, PASSWORD, device=device)
    row = your_work(page).locator("tbody tr").filter(has_text=exception.number)
    expect(row).to_contain_text("セキュリティ担当確認済・統括情報セキュリティ責任者の承認待ち")
    expect(row).not_to_contain_text("承認済（")
    shot(page, "dashboard-awaiting-ciso")

    your_work(page).get_by_role("link", name=exception.number).click()
    expect_state(
        page,
        "セキュリティ担当確認済・統括情報セキュリティ責任者の承認待ち",
        "統括情報セキュリティ責任者",
    )
    expect(page.locator("section[aria-labelledby=judgement-heading]")).to_contain_text(
        "統括情報セキュリティ責任者の承認が必要"
    )
    shot(page, "awaiting-ciso")
    act(
        page,
        "統括情報セキュリティ責任者として承認",
        comment="承認します。",
        shot=shot,
        step="ciso-approve",
        open_rows=True,
    )
    expect_state(page, "承認済（統括承認 令和", "申請者", exact=False)
    expect(status_line(page)).to_contain_text("統括 責任")
    # The verdict panel says who approved and when, not that the approval is needed.
    given = page.locator("ul.approvals-given")
    expect(given).to_contain_text("統括情報セキュリティ責任者の承認: 令和")
    expect(given).to_contain_text("統括 責任")
    expect(page.locator("main")).not_to_contain_text("統括情報セキュリティ責任者の承認が必要")
    expect(action_button(page, "統括情報セキュリティ責任者として承認")).to_have_count(0)
    shot(page, "approved-by-ciso")
    page.get_by_role("navigation").get_by_role("link", name="ダッシュボード").click()
    expect(your_work(page)).not_to_contain_text(exception.number)

    # A prohibited application: 禁止（承認できません）, and no approve button at all.
    open_application(page, prohibited)
    expect_state(page, "禁止（承認できません）", "セキュリティ担当")
    for button in ("承認する", "統括情報セキュリティ責任者として承認"):
        expect(page.get_by_role("button", name=button, exact=True)).to_have_count(0)
    expect(action_button(page, "差し戻す")).to_be_enabled()  # the ways it can go
    expect(page.locator("section.remedies")).to_contain_text("利用できるようにする変更")
    shot(page, "prohibited-no-approve")


# --------------------------------------------------------------------------- the auditor


def test_the_auditor_journey(page: Page, people, log_in):
    shot = Screenshots(SCREENSHOTS / "auditor")
    applicant, _ = people["applicant"]
    auditor, device = people["auditor"]
    app = application(people, "クラウド型会計システム", LOCAL_BREAKOUT)
    workflow.perform(app, Step.SUBMIT, applicant)

    log_in(page, auditor.username, PASSWORD, device=device)
    expect(your_work(page)).to_contain_text("対応が必要な申請はありません。")
    page.get_by_role("navigation").get_by_role("link", name="台帳").click()
    row = page.locator("table.register tbody tr").filter(has_text=app.number)
    expect(row).to_contain_text("申請中・セキュリティ担当の確認待ち")
    shot(page, "register")

    # Everything is readable; nothing can be changed.
    row.get_by_role("link", name=app.number).click()
    expect_state(page, "申請中・セキュリティ担当の確認待ち", "セキュリティ担当")
    main = page.locator("main")
    expect(main.locator("form[method=post]")).to_have_count(0)  # reading only: GET forms
    expect(page.locator("section.actions")).to_have_count(0)
    expect(main.get_by_role("link", name="編集", exact=True)).to_have_count(0)
    expect(main.get_by_role("link", name="条件付き承認を記録する")).to_have_count(0)
    expect(page.locator("form#bulk")).to_have_count(0)
    expect(page.locator("#checklist").get_by_role("button", name="保存")).to_have_count(0)
    expect(page.locator("#checklist select")).to_have_count(0)
    expect(page.locator("#checklist tbody tr").first).to_be_visible()  # but the rows are read
    shot(page, "read-only-application")

    # A refused POST: the approve form replayed with the auditor's own session and token.
    token = page.locator("header input[name=csrfmiddlewaretoken]").first.input_value()
    page.evaluate(
        """([url, token]) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = url;
            for (const [name, value] of [["csrfmiddlewaretoken", token], ["action", "approve"],
                                          ["confirmed", "1"], ["comment", "監査から承認"]]) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        [f"/applications/{app.pk}/action/", token],
    )
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text("権限がありません")
    expect(page.locator("main")).to_contain_text("あなたの役割ではこの申請にこの操作はできません。")
    shot(page, "refused-post")
    with page.expect_response(lambda r: r.url.endswith(f"/applications/{app.pk}/")) as seen:
        page.goto(f"/applications/{app.pk}/")
    assert seen.value.status == 200
    expect_state(page, "申請中・セキュリティ担当の確認待ち", "セキュリティ担当")
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED and app.approved_at is None

    # The audit page, filtered by アクセス拒否, shows who, which URL, the method and why.
    page.get_by_role("navigation").get_by_role("link", name="監査ログ").click()
    page.get_by_label("操作", exact=True).select_option(label="アクセス拒否")
    page.get_by_role("button", name="検索").click()
    entries = page.locator("table.audit > tbody > tr")
    expect(entries).to_have_count(1)
    entry = entries.first
    expect(entry).to_contain_text(auditor.username)
    expect(entry).to_contain_text("アクセス拒否")
    expect(entry).to_contain_text(f"/applications/{app.pk}/action/")
    expect(entry).to_contain_text("POST")
    expect(entry).to_contain_text("あなたの役割ではこの申請にこの操作はできません。")
    expect(entry).to_contain_text("127.0.0.1")
    expect(entry.locator("dl.facts dt")).to_have_text(["メソッド", "理由", "応答コード", "URL"])
    shot(page, "audit-access-denied")
    (stored,) = AuditEntry.objects.filter(action=Action.ACCESS_DENIED)
    assert stored.actor_username == auditor.username and stored.extra["status"] == 403
