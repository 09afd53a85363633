"""What the browser journeys read and press on an application's pages, in one
place: the one status line and who acts next (``workflow.state_of``), the
words that must never stand beside it, the action buttons and their
confirmation pages."""

from __future__ import annotations

from playwright.sync_api import Page, expect

#: What the page says once a step is taken, as a clerk writes it.
DONE = {
    "保存して申請": "利用申請を提出しました。",
    "承認する": "利用申請を承認しました。",
    "統括情報セキュリティ責任者として承認": "統括情報セキュリティ責任者の承認を記録しました。",
    "差し戻す": "利用申請を申請者に差し戻しました。",
    "利用を開始する": "サービスの利用を開始しました。",
    "利用終了の手続を始める": "利用終了の手続を開始しました（EXIT-1〜EXIT-3）。",
    "利用を終了する": "サービスの利用を終了しました。",
}

#: Words that contradict a status line: once approved, nothing may say the
#: approval is awaited or needed; a prohibited one is not "to be approved".
CONTRADICTING = {
    "承認済": ("統括承認待ち", "承認待ち", "承認が必要", "要承認"),
    "禁止": ("統括承認待ち", "承認が必要", "要承認", "承認済"),
    "待ち": ("承認済",),
}


def status_line(page: Page):
    """The one status line (workflow.state_of) the page shows."""
    return page.locator("#status-line .state")


def next_actor(page: Page):
    return page.locator("#status-line .next-actor")


def expect_state(page: Page, line: str, actor: str | None, *, exact: bool = True) -> None:
    """The page shows this one status line (never two) and this next actor,
    and nothing in its header or verdict panel contradicts it."""
    if exact:
        expect(status_line(page)).to_have_text(line)
    else:
        expect(status_line(page)).to_contain_text(line)
    expect(page.locator("#status-line .state")).to_have_count(1)  # one line, never two
    if actor is None:
        expect(next_actor(page)).to_have_count(0)
    else:
        expect(next_actor(page)).to_have_text(f"次の対応: {actor}")
    expect_no_contradiction(page, line)


def expect_no_contradiction(page: Page, line: str) -> None:
    """The header beside the status line and the verdict panel's verdict line
    and flags say nothing the line contradicts. (The engine's findings below
    keep their reasons, e.g. why the approval was required, and the history
    keeps the earlier stages, by design.)"""
    header = page.locator("p.badges")
    panel = page.locator("section[aria-labelledby=judgement-heading]")
    for stage, words in CONTRADICTING.items():
        if stage not in line:
            continue
        for part in (header, panel.locator("p.verdict"), panel.locator("ul.flags")):
            if not part.count():
                continue
            for word in words:
                expect(part).not_to_contain_text(word)


def action_button(page: Page, button: str):
    return page.locator("form.action").get_by_role("button", name=button, exact=True)


def act(
    page: Page,
    button: str,
    comment: str | None = None,
    shot=None,
    step: str = "",
    open_rows: bool | None = None,
) -> None:
    """Press one of the detail page's action buttons (with its comment, if any);
    a step that cannot be undone asks first, and is confirmed. ``open_rows``:
    the confirmation must (True) or must not (False) list open checklist rows."""
    form = page.locator("form.action").filter(
        has=page.get_by_role("button", name=button, exact=True)
    )
    if comment is not None:
        form.locator("textarea").fill(comment)
    form.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    confirm = page.get_by_role("button", name=f"はい、{button}", exact=True)
    if page.get_by_role("heading", name=f"確認：{button}").count():
        expect(page.locator("section.confirm")).to_contain_text("この操作は取り消せません。")
        if open_rows is True:
            expect(page.locator("section.confirm")).to_contain_text(
                "件のチェックリスト項目が未完了です"
            )
            expect(page.locator("ul.open-rows li").first).to_be_visible()
        elif open_rows is False:
            expect(page.locator("ul.open-rows")).to_have_count(0)
        if shot is not None:
            shot(page, f"confirm-{step or button}")
        confirm.click()
    else:
        assert open_rows is None, f"{button} asked for no confirmation"
    expect(page.locator(".messages")).to_contain_text(DONE[button])
