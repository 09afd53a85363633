"""One application, every surface, the same status line (issue 11).

``workflow.state_of`` derives the one line; the register list, the
application page, the API, the CSV and Excel exports, the application's PDF
report, the register's PDF and the 見直しが必要 e-mail must each show that
line and no word of another stage (「統括承認待ち」 beside 「承認済」, 「申請中」
beside 「禁止」). Each case has the one application in the database, so the
register-wide surfaces (list, exports, register PDF) speak of it alone.
"""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from cloudjudge.web.api.models import ApiToken
from cloudjudge.web.register import judging, workflow
from cloudjudge.web.register.models import Application, ItemStatus, Status
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db

#: The other stages' words, which must not stand beside a line (as in test_state).
STAGE_WORDS = ("下書き", "差戻し", "申請中", "承認済", "確認済", "利用中", "見直し", "却下", "禁止")
#: What the screens used to say next to 承認済 before one status line.
STALE_APPROVAL = (
    "統括承認待ち",
    "承認待ち",
    "要承認（統括情報セキュリティ責任者）",
    "統括情報セキュリティ責任者の承認が必要です",
)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def reads(line: str, text: str) -> bool:
    """``line`` in ``text``; in a PDF a table cell wraps, and pdftotext reads
    its lines in between those of the cell beside it, so there the line's
    characters are looked for in order, a few of the neighbour's between."""
    pattern = ".{0,16}?".join(re.escape(c) for c in squeeze(line))
    return re.search(pattern, squeeze(text), re.S) is not None


def shown(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def status_column(header: list, rows: list[list]) -> list[str]:
    index = header.index("状態")
    return [str(row[index]) for row in rows]


def every_surface(client, api, app, poppler, tmp_path) -> dict[str, str]:
    """What each surface says of the application's state."""
    out: dict[str, str] = {}
    listing = client.get(reverse("register:list")).content.decode()
    rows = [r for r in re.findall(r"<tr.*?</tr>", listing, re.S) if app.number in r]
    assert len(rows) == 1, "the application is not once in the register list"
    out["list"] = html.unescape(re.sub(r"<[^>]+>", " ", rows[0]))
    page = client.get(reverse("register:detail", args=[app.pk])).content.decode()
    line = re.search(r'id="status-line".*?</(?:p|div|section)>', page, re.S)
    assert line, "no status line on the application page"
    out["page"] = html.unescape(re.sub(r"<[^>]+>", " ", line.group(0)))
    out["api"] = api.get(f"/api/v1/applications/{app.pk}").json()["status_line"]
    export = client.get(reverse("documents:export_csv"))
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    out["csv"] = " ".join(status_column(header, rows))
    xlsx = client.get(reverse("documents:export_xlsx"))
    data = b"".join(xlsx.streaming_content) if xlsx.streaming else xlsx.content
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    out["xlsx"] = " ".join(status_column(header, rows))
    for name, url in (
        ("pdf", reverse("documents:report_pdf", args=[app.pk])),
        ("register_pdf", reverse("documents:register_pdf")),
    ):
        response = client.get(url)
        assert response.status_code == 200 and response.content.startswith(b"%PDF-"), name
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(response.content)
        out[name] = poppler.text(path)
    return out


def assert_one_line(surfaces: dict[str, str], line: str, forbidden: tuple[str, ...]) -> None:
    own = {w for w in STAGE_WORDS if w in line}
    for where, text in surfaces.items():
        if where in ("pdf", "register_pdf"):
            assert reads(line, text), (where, line, text[:400])
        else:
            assert squeeze(line) in squeeze(text), (where, line, text[:400])
        if where in ("api", "csv", "xlsx"):  # the line itself, nothing else
            assert text.strip() == line, (where, text)
            continue
        for word in forbidden:
            if where in ("pdf", "register_pdf") and word in STAGE_WORDS:
                continue  # catalog text in a report says 禁止 (「ダウンロードを禁止」)
            assert word not in text, (where, word)
    # the line carries one stage; a column that holds only the state says no other
    for where in ("api", "csv", "xlsx"):
        assert {w for w in STAGE_WORDS if w in surfaces[where]} == own, where


@pytest.fixture
def api():
    def client_for(user) -> Client:
        _, token = ApiToken.issue(user, name="status line")
        return Client(headers={"Authorization": f"Bearer {token}"})

    return client_for


@pytest.fixture
def needs_ciso(make_application, make_service):
    """3B by local breakout on an ISMS-only service: 承認が必要, CISO included."""
    service = make_service(name="ISMS のみのストレージ", listings=(), certs=("iso27001",))
    app = make_application(service=service)
    assert app.needs_ciso_approval and app.verdict == "approval_required"
    return app


def test_after_the_cisos_approval_every_surface_says_approved_by_whom_and_when(
    login, api, needs_ciso, applicant, security, ciso, poppler, tmp_path
):
    ciso.last_name, ciso.first_name = "堺", "太郎"
    ciso.save()
    workflow.perform(needs_ciso, Step.SUBMIT, applicant)
    workflow.perform(needs_ciso, Step.APPROVE, security, "確認しました")
    workflow.perform(needs_ciso, Step.CISO_APPROVE, ciso, "承認します")
    app = Application.objects.get(pk=needs_ciso.pk)
    line = str(workflow.state_of(app).line)
    assert line.startswith("承認済（統括承認 ") and line.endswith(" 堺 太郎）")
    surfaces = every_surface(login(security), api(security), app, poppler, tmp_path)
    others = tuple(w for w in STAGE_WORDS if w not in line and w != "確認済")
    assert_one_line(surfaces, line, STALE_APPROVAL + others)


def test_awaiting_the_ciso_every_surface_says_so(
    login, api, needs_ciso, applicant, security, poppler, tmp_path
):
    workflow.perform(needs_ciso, Step.SUBMIT, applicant)
    workflow.perform(needs_ciso, Step.APPROVE, security, "確認しました")
    app = Application.objects.get(pk=needs_ciso.pk)
    line = str(workflow.state_of(app).line)
    assert line == "セキュリティ担当確認済・統括情報セキュリティ責任者の承認待ち"
    surfaces = every_surface(login(security), api(security), app, poppler, tmp_path)
    assert_one_line(surfaces, line, ("承認済", "利用中", "申請中", "禁止"))


def test_a_prohibited_submission_says_prohibited_and_nothing_awaited(
    login, api, make_application, applicant, security, poppler, tmp_path
):
    app = make_application(method="internet_pc", breakout_usage="")  # 3B, no ground
    assert app.verdict == "prohibited"
    workflow.perform(app, Step.SUBMIT, applicant)
    app = Application.objects.get(pk=app.pk)
    line = str(workflow.state_of(app).line)
    assert line == "禁止（承認できません）"
    surfaces = every_surface(login(security), api(security), app, poppler, tmp_path)
    assert_one_line(surfaces, line, ("統括承認待ち", "承認待ち", "確認待ち", "申請中", "承認済"))


def test_a_worse_rejudgement_says_needs_review_everywhere_and_in_the_mail(
    login,
    api,
    make_application,
    applicant,
    security,
    poppler,
    tmp_path,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    security.email = "security@city.example"
    security.save()
    app = make_application()
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, security, "確認しました")
    app.checklist_items.update(status=ItemStatus.DONE)
    workflow.perform(app, Step.START_USE, applicant)
    Application.objects.filter(pk=app.pk).update(confidentiality="3A")
    app.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        judging.judge_application(app, actor=security)
    app = Application.objects.get(pk=app.pk)
    assert app.status == Status.NEEDS_REVIEW
    line = str(workflow.state_of(app).line)
    assert line == "見直しが必要（判定が変わりました）"
    surfaces = every_surface(login(security), api(security), app, poppler, tmp_path)
    (mail,) = mailoutbox
    surfaces["mail"] = mail.body
    assert f"状態：{line}" in mail.body
    assert_one_line(surfaces, line, ("利用中", "承認済", "承認待ち", "確認待ち"))
