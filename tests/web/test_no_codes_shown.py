"""No internal code is ever shown to a user (issue 11): every page with a
form, rendered for the role that uses it, is scanned for what a user reads —
the text between tags, each choice's label, placeholders, titles and
``aria-label``s — and none may hold a snake_case code such as ``auth_only``,
``local_breakout`` or ``approval_required`` (the values the forms send are
codes, as they must be; what is read is Japanese).

The pages are those of a whole journey: the applicant's new and edit forms,
a submitted application with its checklist forms, the exit steps, the
security office's review forms (approval, conditional approval), the
register of public lists with its import and entry forms, the criteria
versions and re-judging, the audit log's filter, the account pages.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from django.urls import reverse

from cloudjudge.engine import judge
from cloudjudge.web.register import workflow
from cloudjudge.web.register.models import ItemStatus
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db

CODE = re.compile(r"(?<![\w./#-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w./-])")
#: A stored name beside its words, as reconciliation and the audit log name a
#: field or a choice (「状態（status）」「利用中（in_use）」): the words are read.
BESIDE_ITS_WORDS = re.compile(r"(?<=\S)（[a-z][a-z0-9_]*）")
READ_ATTRIBUTES = re.compile(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"')


def what_a_user_reads(page: str) -> list[str]:
    """The page's text and the attributes a user reads, without scripts,
    styles and the attribute values a form sends."""
    # scripts and styles; <code> and <pre> hold what is machine-readable on
    # purpose (a rule's CEL, the request as JSON, a hash), shown as such
    page = re.sub(r"<(script|style|code|pre)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    shown = READ_ATTRIBUTES.findall(page)
    shown.append(re.sub(r"<[^>]+>", " ", page))
    return [BESIDE_ITS_WORDS.sub("", html.unescape(text)) for text in shown]


def codes_in(page: str) -> set[str]:
    return {code for text in what_a_user_reads(page) for code in CODE.findall(text)}


def test_the_scan_finds_a_code_where_a_user_would_read_it():
    assert codes_in('<option value="auth_only">auth_only</option>') == {"auth_only"}
    assert codes_in('<input placeholder="file_import のいずれか">') == {"file_import"}
    assert not codes_in('<option value="auth_only">認証のみ（A）</option>')
    assert not codes_in('<input name="breakout_usage" value="no_file_import">')
    assert not codes_in("<script>const local_breakout = 1;</script>")
    assert not codes_in("<td>状態（status）</td><td>利用中（in_use）</td>")
    assert codes_in("<td>in_use</td>") == {"in_use"}


@pytest.fixture
def journey(make_application, make_service, applicant, security, ciso):
    """A draft, a submitted application awaiting review (CISO included), one
    in use with its exit begun."""
    draft = make_application()
    isms = make_service(name="ISMS のみのストレージ", listings=(), certs=("iso27001",))
    submitted = make_application(service=isms)
    workflow.perform(submitted, Step.SUBMIT, applicant)
    exiting = make_application()
    workflow.perform(exiting, Step.SUBMIT, applicant)
    workflow.perform(exiting, Step.APPROVE, security, "確認しました")
    exiting.checklist_items.update(status=ItemStatus.DONE)
    workflow.perform(exiting, Step.START_USE, applicant)
    workflow.perform(exiting, Step.BEGIN_EXIT, applicant)
    approved = make_application()
    workflow.perform(approved, Step.SUBMIT, applicant)
    workflow.perform(approved, Step.APPROVE, security, "確認しました")
    return {"draft": draft, "submitted": submitted, "exiting": exiting, "approved": approved}


def pages(journey) -> dict[str, list[str]]:
    draft, submitted, exiting = journey["draft"], journey["submitted"], journey["exiting"]
    approved = journey["approved"]
    row = draft.checklist_items.filter(active=True).first()
    judgement = submitted.latest_judgement
    applicant = [
        reverse("register:dashboard"),
        reverse("register:list"),
        reverse("register:create"),
        reverse("register:detail", args=[draft.pk]),
        reverse("register:edit", args=[draft.pk]),
        reverse("register:checklist_item", args=[draft.pk, row.pk]),
        reverse("register:judgement", args=[submitted.pk, judgement.pk]),
        reverse("register:detail", args=[exiting.pk]),
        reverse("register:catalog"),
        reverse("account_settings"),
        reverse("password_change"),
    ]
    security = [
        reverse("register:dashboard"),
        reverse("register:reviews"),
        reverse("register:detail", args=[submitted.pk]),
        reverse("register:conditional", args=[approved.pk]),
        reverse("register:versions"),
        reverse("registries:list"),
        reverse("registries:import"),
        reverse("registries:entry_create"),
        reverse("registries:snapshots"),
        reverse("registries:relinks"),
        reverse("questionnaires:import", args=[submitted.pk]),
        f"{reverse('register:list')}?status=submitted",
    ]
    auditor = [reverse("audit:list"), f"{reverse('audit:list')}?action=access_denied"]
    return {"applicant": applicant, "security": security, "auditor": auditor}


def test_no_page_with_a_form_shows_an_internal_code(login, journey, applicant, security, auditor):
    users = {"applicant": applicant, "security": security, "auditor": auditor}
    found: dict[str, set[str]] = {}
    forms = 0
    for role, urls in pages(journey).items():
        client = login(users[role])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url, response.status_code)
            page = response.content.decode()
            forms += page.count("<form")
            if url.startswith(reverse("audit:list")):
                # an entry's details are its record as stored (the step's code
                # a state change carries, e.g. begin_exit), matched against the
                # log's exports; its changed fields are named in words
                page = re.sub(r'<dl class="facts">.*?</dl>', " ", page, flags=re.S)
            codes = codes_in(page)
            if codes:
                found[f"{role} {url}"] = codes
    assert forms >= 20  # the pages do hold the forms this is about
    assert not found, "internal codes shown:\n" + "\n".join(
        f"{where}: {', '.join(sorted(codes))}" for where, codes in found.items()
    )


def test_a_refused_form_says_its_errors_without_codes(login, journey, applicant):
    """Errors are what a user reads after a mistake: a submitted form with
    every choice missing or wrong is answered in words."""
    client = login(applicant)
    response = client.post(
        reverse("register:create"),
        {
            "confidentiality": "9Z",
            "method": "teleport",
            "breakout_usage": "everything",
            "submit": "1",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "正しく選択してください" in page  # said in words, at the fields
    assert not codes_in(page)


def test_the_engine_input_on_the_judgement_page_is_the_json_it_says(
    login, journey, applicant, tmp_path
):
    """「判定エンジンへの入力（JSON）」 is the JSON ``cloudjudge judge`` reads
    (it was Python's repr: single quotes, True/False), and judges alike."""
    app = journey["submitted"]
    judgement = app.latest_judgement
    page = login(applicant).get(reverse("register:judgement", args=[app.pk, judgement.pk]))
    block = re.search(r"<pre>(.*?)</pre>", page.content.decode(), re.S)
    assert block, "no engine input on the judgement page"
    sent = json.loads(html.unescape(block.group(1)))
    assert sent == judgement.request
    assert judge(sent)["verdict"] == judgement.verdict


def test_the_audit_log_names_changed_fields_and_choices_in_words(login, journey, auditor):
    page = login(auditor).get(reverse("audit:list")).content.decode()
    found = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>', page)
    rows = {tuple(html.unescape(cell) for cell in row) for row in found}
    assert ("状態（status）", "下書き（draft）", "申請中（submitted）") in rows
    assert ("状態（status）", "承認（approved）", "利用中（in_use）") in rows
    assert not any(field in ("status", "approved_by") for field, _old, _new in rows)
