"""The vendor questionnaire through the web: download, fill, re-save with
LibreOffice, upload, review, accept; tampered workbooks refused whole."""

from __future__ import annotations

import datetime
import html
import io
import re
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cloudjudge.presentation.dates import format_date
from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.questionnaires.models import (
    AnswerProposal,
    ProposalDecision,
    QuestionnaireImport,
)
from cloudjudge.web.register import applications, checklist
from cloudjudge.web.register.models import ChecklistItem, ItemStatus

from .helpers import INTERNET_PC, download_questionnaire, fill, questionnaire_ids, upload

pytestmark = pytest.mark.django_db

ANSWERS = {
    "SEL-A1": ("対応可", "ISMAP 登録済み（登録番号 C21-0001）。", "ISMAP 登録通知書"),
    "SEL-C2": (
        "一部対応",
        "稼働率 99.9％。RTO は 8 時間、2026 年度に 4 時間へ短縮予定。",
        "SLA 第 3 条",
    ),
    "S1-02": ("対応不可", "暗号化は次期リリースで対応予定です。", ""),
    "EXIT-3": ("該当なし", "機器は貸与しないため、廃棄の対象がありません。", "契約書 第 12 条"),
}


def snapshot(application) -> list[tuple]:
    """Everything an import must not change."""
    rows = ChecklistItem.objects.filter(application=application).order_by("pk")
    return [
        (r.pk, r.status, r.note, r.na_reason, r.updated_at, r.active)
        for r in rows.only("status", "note", "na_reason", "updated_at", "active")
    ]


def nothing_imported() -> bool:
    return not QuestionnaireImport.objects.exists() and not AnswerProposal.objects.exists()


def stored_workbooks(settings) -> list:
    root = settings.MEDIA_ROOT / "questionnaires"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def item(application, item_id: str) -> ChecklistItem:
    return ChecklistItem.objects.get(application=application, item_id=item_id)


# --------------------------------------------------------------------------- download


def test_download_lists_the_vendors_items_only(login, applicant, storage_app):
    url = reverse("documents:questionnaire_download", args=[storage_app.pk])
    response = login(applicant).get(url, {"due": "2099-12-31", "contact": "市民課 申請 花子"})
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response["Content-Disposition"]
    number = storage_app.number
    assert disposition.startswith("attachment; ")
    assert f'filename="questionnaire_{number}.xlsx"' in disposition
    assert "filename*=UTF-8''%E4%BA%8B%E6%A5%AD%E8%80%85%E7%A2%BA%E8%AA%8D%E7%A5%A8_" in disposition
    assert response["Cache-Control"] == "private, no-store"

    wb = load_workbook(io.BytesIO(response.content))
    ws = wb["回答"]
    ids = [ws.cell(row, 1).value for row in range(2, ws.max_row + 1)]
    expected = questionnaire_ids(storage_app)
    assert ids == expected
    assert {i.split("-")[0] for i in ids} == {"SEL", "S1", "EXIT"}
    assert not any(i.startswith(("PROC", "T1", "RISK")) for i in ids)
    # 別紙1② (the city's internet PCs) is required of this application, and stays with the city.
    required = {e["id"] for e in storage_app.latest_judgement.decision["required"]}
    assert {"S2-01", "S2-22", "S1-11"} <= required
    sent = " ".join(str(c.value) for sheet in wb for row in sheet for c in row)
    assert "S2-01" not in sent and "S1-11" not in sent
    cover = {ws_row[0].value: ws_row[1].value for ws_row in wb["表紙"].iter_rows(max_col=2)}
    assert cover["申請番号"] == number
    assert cover["サービス名"] == "オンラインストレージ"
    assert cover["申請部署"] == "市民課"
    assert cover["回答期限"] == "令和81年12月31日"
    assert cover["問い合わせ先（返送先）"] == "市民課 申請 花子"


def test_default_due_date_is_two_weeks_ahead(login, applicant, storage_app):
    url = reverse("documents:questionnaire_download", args=[storage_app.pk])
    response = login(applicant).get(url)
    assert response.status_code == 200
    cover = load_workbook(io.BytesIO(response.content))["表紙"]
    values = {r[0].value: r[1].value for r in cover.iter_rows(max_col=2)}
    due = timezone.localdate() + datetime.timedelta(days=14)
    assert values["回答期限"] == format_date(due)
    assert "申請 花子" in values["問い合わせ先（返送先）"]


def test_a_due_date_in_the_past_is_refused(login, applicant, storage_app):
    client = login(applicant)
    url = reverse("documents:questionnaire_download", args=[storage_app.pk])
    response = client.get(url, {"due": "2000-01-01"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("register:detail", args=[storage_app.pk])
    assert "回答期限が過去の日付です。" in response.content.decode()


def test_the_detail_page_has_a_documents_box(login, applicant, storage_app):
    page = login(applicant).get(reverse("register:detail", args=[storage_app.pk])).content.decode()
    assert "書類" in page
    assert reverse("documents:questionnaire_download", args=[storage_app.pk]) in page
    assert reverse("questionnaires:import", args=[storage_app.pk]) in page
    assert reverse("documents:report_pdf", args=[storage_app.pk]) in page
    assert reverse("documents:procurement", args=[storage_app.pk, "docx"]) in page
    assert reverse("documents:procurement", args=[storage_app.pk, "md"]) in page
    default_due = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
    assert f'value="{default_due}"' in page


# --------------------------------------------------------------------------- round trip


def test_round_trip_through_libreoffice(
    login, applicant, security, storage_app, libreoffice, tmp_path, settings
):
    """download → fill with openpyxl → re-save with LibreOffice → upload →
    proposals shown → accept → the checklist has the statuses and notes."""
    earlier = item(storage_app, "SEL-A1")
    checklist.update_item(earlier, applicant, note="ISMAP の登録を確認中（申請者メモ）")

    filled = tmp_path / "事業者確認票_回答.xlsx"
    filled.write_bytes(fill(download_questionnaire(login(applicant), storage_app), ANSWERS))
    resaved = libreoffice.resave(filled, tmp_path).read_bytes()
    assert resaved != filled.read_bytes()

    before = snapshot(storage_app)
    response = upload(login(applicant), storage_app, resaved, filled.name)
    assert response.status_code == 302
    imported = QuestionnaireImport.objects.get()
    assert response["Location"] == reverse(
        "questionnaires:review", args=[storage_app.pk, imported.pk]
    )
    assert (imported.answered, imported.unanswered) == (4, len(questionnaire_ids(storage_app)) - 4)
    assert imported.original_name == filled.name
    assert imported.uploaded_by == applicant
    assert stored_workbooks(settings)[0].read_bytes() == resaved
    assert snapshot(storage_app) == before, "nothing reaches the checklist before review"

    # The reviewer sees every answer, explanation and evidence reference.
    page = login(security).get(response["Location"]).content.decode()
    for item_id, (answer, explanation, evidence) in ANSWERS.items():
        assert f'id="proposal-{item_id}"' in page
        assert answer in page and explanation in page and evidence in page
    assert page.count('type="checkbox" name="proposals"') == 4
    for label in ("対応済", "対応中", "未対応", "該当なし"):
        assert label in page

    review = response["Location"]
    by_item = {p.item_id: p for p in imported.proposals.all()}
    # 一部対応 and 該当なし are proposals: accepting them without a reason of the
    # reviewer's own is refused, naming the rows, and nothing is applied.
    response = login(security).post(review, {"decision": "accept_all"}, follow=True)
    page = html.unescape(response.content.decode())
    assert "SEL-C2（回答シート" in page and "事業者の「一部対応」を受け入れるには" in page
    assert "EXIT-3（回答シート" in page and "事業者の「該当なし」を受け入れるには" in page
    assert snapshot(storage_app) == before
    # With the reasons, applying four rows at once asks for confirmation first.
    reasons = {
        f"reason-{by_item['SEL-C2'].pk}": "RTO 短縮の計画書を確認した。",
        f"reason-{by_item['EXIT-3'].pk}": "貸与機器がないことを契約書案で確認した。",
    }
    response = login(security).post(review, {"decision": "accept_all", **reasons})
    assert response.status_code == 200
    page = response.content.decode()
    assert "4 件の回答をチェックリストに反映します" in page
    for item_id in ANSWERS:
        assert f'id="confirm-{item_id}"' in page
    assert snapshot(storage_app) == before, "nothing applied before the confirmation"
    confirm = {
        "decision": "accept_selected",
        "confirmed": "on",
        "proposals": [p.pk for p in by_item.values()],
        **reasons,
    }
    response = login(security).post(review, confirm)
    assert response.status_code == 302

    a1, c2, s1, exit3 = (item(storage_app, i) for i in ANSWERS)
    assert a1.status == ItemStatus.DONE
    assert a1.note.startswith("ISMAP の登録を確認中（申請者メモ）\n\n【事業者確認票 ")
    assert "事業者回答: 対応可\n説明: ISMAP 登録済み（登録番号 C21-0001）。" in a1.note
    assert "根拠資料: ISMAP 登録通知書" in a1.note
    assert a1.updated_by == security
    assert c2.status == ItemStatus.IN_PROGRESS and "RTO は 8 時間" in c2.note
    assert "審査者の判断（" in c2.note and "RTO 短縮の計画書を確認した。" in c2.note
    assert s1.status == ItemStatus.TODO and "事業者回答: 対応不可" in s1.note
    assert exit3.status == ItemStatus.NOT_APPLICABLE
    # The row's 該当なし reason is the reviewer's; the vendor's stays in the note.
    assert exit3.na_reason == "貸与機器がないことを契約書案で確認した。"
    assert "説明: 機器は貸与しないため、廃棄の対象がありません。" in exit3.note
    assert "根拠資料: 契約書 第 12 条" in exit3.note
    untouched = item(storage_app, "SEL-A2")
    assert (untouched.status, untouched.note) == (ItemStatus.TODO, "")
    assert set(AnswerProposal.objects.values_list("decision", flat=True)) == {
        ProposalDecision.ACCEPTED
    }
    # Who accepted what: one audit entry per accepted row.
    entries = AuditEntry.objects.filter(
        object_type="questionnaires.answerproposal", action=Action.UPDATE
    )
    accepted = {e.extra["accepted"]: e for e in entries}
    assert set(accepted) == set(ANSWERS)
    assert all(e.actor == security for e in accepted.values())
    assert accepted["EXIT-3"].extra["answer"] == "該当なし"
    assert accepted["EXIT-3"].extra["review_reason"] == "貸与機器がないことを契約書案で確認した。"
    assert accepted["SEL-A1"].extra["review_reason"] == ""

    # Accepting again changes nothing: the notes are appended once.
    login(security).post(
        reverse("questionnaires:review", args=[storage_app.pk, imported.pk]),
        {"decision": "accept_all"},
    )
    assert item(storage_app, "SEL-A1").note == a1.note

    # The detail page shows the appended note.
    detail = login(applicant).get(reverse("register:detail", args=[storage_app.pk]))
    assert "事業者回答: 対応可" in detail.content.decode()


def test_accept_and_reject_per_row(login, security, storage_app):
    client = login(security)  # the security office may import too
    response = upload(
        client, storage_app, fill(download_questionnaire(client, storage_app), ANSWERS)
    )
    assert response.status_code == 302
    imported = QuestionnaireImport.objects.get()
    by_item = {p.item_id: p for p in imported.proposals.all()}
    review = response["Location"]

    c2 = by_item["SEL-C2"].pk
    response = client.post(review, {"decision": "accept_selected", "proposals": [c2]}, follow=True)
    assert "事業者の「一部対応」を受け入れるには、審査者の理由を記入してください。" in (
        html.unescape(response.content.decode())
    )
    assert item(storage_app, "SEL-C2").status == ItemStatus.TODO
    # One row with the reviewer's reason: applied at once, no confirmation needed.
    response = client.post(
        review,
        {"decision": "accept_selected", "proposals": [c2], f"reason-{c2}": "SLA 案を確認。"},
    )
    assert response.status_code == 302
    response = client.post(
        review, {"decision": "reject_selected", "proposals": [by_item["S1-02"].pk]}
    )
    assert response.status_code == 302

    decisions = dict(imported.proposals.values_list("item_id", "decision"))
    assert decisions == {
        "SEL-A1": ProposalDecision.PENDING,
        "SEL-C2": ProposalDecision.ACCEPTED,
        "S1-02": ProposalDecision.REJECTED,
        "EXIT-3": ProposalDecision.PENDING,
    }
    assert item(storage_app, "SEL-C2").status == ItemStatus.IN_PROGRESS
    assert item(storage_app, "S1-02").note == ""
    assert item(storage_app, "SEL-A1").status == ItemStatus.TODO

    # Selecting nothing is refused with a message, not applied to everything.
    response = client.post(review, {"decision": "accept_selected"}, follow=True)
    assert "回答を 1 件以上選んでください。" in response.content.decode()
    assert item(storage_app, "SEL-A1").status == ItemStatus.TODO


def test_a_new_import_supersedes_pending_answers(login, applicant, storage_app):
    client = login(applicant)
    workbook = download_questionnaire(client, storage_app)
    upload(client, storage_app, fill(workbook, {"SEL-A1": ANSWERS["SEL-A1"]}))
    upload(client, storage_app, fill(workbook, {"SEL-A2": ("対応可", "", "")}))
    first, second = QuestionnaireImport.objects.order_by("pk")
    assert first.proposals.get().decision == ProposalDecision.SUPERSEDED
    assert second.proposals.get().decision == ProposalDecision.PENDING


def test_answers_of_an_import_made_before_re_judging_cannot_be_applied(
    login, applicant, security, storage_app
):
    client = login(applicant)
    upload(client, storage_app, fill(download_questionnaire(client, storage_app), ANSWERS))
    imported = QuestionnaireImport.objects.get()
    applications.update_application(storage_app, applicant, critical_to_citizens=True)
    before = snapshot(storage_app)

    review = reverse("questionnaires:review", args=[storage_app.pk, imported.pk])
    page = login(security).get(review).content.decode()
    assert "判定し直された" in page
    assert 'name="decision"' not in page
    response = login(security).post(review, {"decision": "accept_all"}, follow=True)
    assert "回答を取り込み直してください" in response.content.decode()
    assert snapshot(storage_app) == before
    assert set(imported.proposals.values_list("decision", flat=True)) == {ProposalDecision.PENDING}


def test_import_and_download_are_in_the_audit_trail(login, applicant, storage_app):
    client = login(applicant)
    upload(client, storage_app, fill(download_questionnaire(client, storage_app), ANSWERS))
    imported = QuestionnaireImport.objects.get()
    export = AuditEntry.objects.filter(action=Action.EXPORT).get()
    assert export.extra["document"] == "questionnaire"
    assert export.object_id == str(storage_app.pk)
    created = AuditEntry.objects.filter(
        action=Action.CREATE, object_type="questionnaires.questionnaireimport"
    ).get()
    assert created.extra["sha256"] == imported.sha256
    assert created.actor == applicant


# --------------------------------------------------------------------------- tampering


PROBLEM_ROW = re.compile(
    r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", re.DOTALL
)


def problems(response) -> list[tuple[str, str, str, str]]:
    """The problem table's rows: (sheet, row, column, message)."""
    page = response.content.decode()
    table = page[page.index('<table class="problems">') :]
    return [tuple(html.unescape(c) for c in row) for row in PROBLEM_ROW.findall(table)]


def has_problem(found, sheet: str, row: int | None, column: str, text: str) -> bool:
    where = (sheet, "—" if row is None else str(row), column)
    return any(p[:3] == where and text in p[3] for p in found)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "altered_id",
            [
                ("回答", 2, "A（ID）", "ID「SEL-Z9」は判断基準にない ID です"),
                ("回答", 2, "A（ID）", "ID「SEL-A1」の行がありません"),
            ],
        ),
        ("copied_id", [("回答", 2, "A（ID）", "ID「T1-02」はこの申請の確認項目ではありません")]),
        ("answer_outside_the_list", [("回答", 4, "D（回答）", "回答「はい」は選択肢")]),
        ("rows_of_another_application", [("回答", 3, "G（申請番号）", "の質問票のものです")]),
        ("workbook_of_another_application", [(None, 2, "B", "の質問票を取り込んでください")]),
    ],
)
def test_tampered_workbooks_are_refused_whole(
    login, applicant, storage_app, make_application, case, expected, settings
):
    client = login(applicant)
    other = make_application(**INTERNET_PC)
    if case == "workbook_of_another_application":
        data = fill(download_questionnaire(client, other), ANSWERS)
    else:
        edit = {
            "altered_id": lambda ws: ws.__setitem__("A2", "SEL-Z9"),
            "copied_id": lambda ws: ws.__setitem__("A2", "T1-02"),
            "answer_outside_the_list": lambda ws: ws.__setitem__("D4", "はい"),
            "rows_of_another_application": lambda ws: ws.__setitem__("G3", other.number),
        }[case]
        data = fill(download_questionnaire(client, storage_app), ANSWERS, edit)
    before = snapshot(storage_app)

    response = upload(client, storage_app, data)

    assert response.status_code == 400
    page = response.content.decode()
    assert "事業者確認票を取り込めませんでした" in page
    assert "何も変更していません" in page
    found = problems(response)
    for sheet, row, column, text in expected:
        if sheet is None:  # the identity: on the cover or the hidden sheet
            assert any(
                p[0] in ("表紙", "_cloudjudge") and p[2] == column and text in p[3] for p in found
            ), found
        else:
            assert has_problem(found, sheet, row, column, text), found
    assert nothing_imported()
    assert snapshot(storage_app) == before
    assert stored_workbooks(settings) == []
    assert not AuditEntry.objects.filter(object_type="questionnaires.questionnaireimport").exists()


def test_every_row_problem_is_listed(login, applicant, storage_app):
    client = login(applicant)

    def edit(ws):
        ws["A2"] = "SEL-Z9"
        ws["D5"] = "できる"
        ws["D6"] = "該当なし"
        ws["E6"] = None

    response = upload(
        client, storage_app, fill(download_questionnaire(client, storage_app), {}, edit)
    )
    assert response.status_code == 400
    found = problems(response)
    assert has_problem(found, "回答", 2, "A（ID）", "判断基準にない ID")
    assert has_problem(found, "回答", 5, "D（回答）", "回答「できる」は選択肢")
    assert has_problem(found, "回答", 6, "E（説明）", "「該当なし」の場合は、説明欄に理由を記入")
    assert len(found) == 4  # and the missing SEL-A1 row
    assert "問題 4 件" in response.content.decode()


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, content in parts.items():
            package.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7\n" + b"x" * 100, "Excel ブック（.xlsx）ではありません。"),
        ("ID,回答\nSEL-A1,対応可\n".encode("cp932"), "Excel ブック（.xlsx）ではありません。"),
        (
            _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\0" * 10}),
            "xl/workbook.xml がありません",
        ),
        (b"PK\x03\x04" + b"\0" * 200, "ファイルが壊れています"),
        (
            _zip(
                {
                    "[Content_Types].xml": b"<Types/>",
                    "xl/workbook.xml": b"<workbook/>",
                    "xl/vbaProject.bin": b"\0" * 10,
                }
            ),
            "マクロを含むブック（.xlsm）は取り込めません。",
        ),
    ],
    ids=["pdf", "csv", "xlsb", "broken-zip", "xlsm"],
)
def test_files_that_are_not_xlsx_are_refused(login, applicant, storage_app, data, message):
    response = upload(login(applicant), storage_app, data, "answers.xlsx")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_imported()


def test_the_upload_size_is_limited(login, applicant, storage_app, settings):
    client = login(applicant)
    data = fill(download_questionnaire(client, storage_app), ANSWERS)
    settings.CLOUDJUDGE_QUESTIONNAIRE_MAX_BYTES = len(data) - 1
    response = upload(client, storage_app, data)
    assert response.status_code == 400
    assert "ファイルが大きすぎます" in response.content.decode()
    assert nothing_imported()
    settings.CLOUDJUDGE_QUESTIONNAIRE_MAX_BYTES = len(data)
    assert upload(client, storage_app, data).status_code == 302


# --------------------------------------------------------------------------- permissions


def _urls(application, imported=None):
    urls = [
        reverse("documents:questionnaire_download", args=[application.pk]),
        reverse("questionnaires:import", args=[application.pk]),
    ]
    if imported is not None:
        urls += [
            reverse("questionnaires:review", args=[application.pk, imported.pk]),
            reverse("questionnaires:workbook", args=[application.pk, imported.pk]),
        ]
    return urls


@pytest.fixture
def imported(login, applicant, storage_app):
    client = login(applicant)
    upload(client, storage_app, fill(download_questionnaire(client, storage_app), ANSWERS))
    return QuestionnaireImport.objects.get()


def test_another_department_gets_404_everywhere(login, outsider, storage_app, imported):
    client = login(outsider)
    for url in _urls(storage_app, imported):
        assert client.get(url).status_code == 404, url
    data = imported.file.open("rb").read()
    assert upload(client, storage_app, data).status_code == 404
    review = reverse("questionnaires:review", args=[storage_app.pk, imported.pk])
    assert client.post(review, {"decision": "accept_all"}).status_code == 404
    # An import is found only under its own application.
    other_url = reverse("questionnaires:review", args=[storage_app.pk + 1000, imported.pk])
    assert client.get(other_url).status_code == 404


def test_an_import_is_looked_up_under_its_application(
    login, applicant, storage_app, make_application, imported
):
    sibling = make_application()
    client = login(applicant)
    url = reverse("questionnaires:review", args=[sibling.pk, imported.pk])
    assert client.get(url).status_code == 404


def test_the_auditor_reads_but_cannot_upload_or_decide(login, auditor, storage_app, imported):
    client = login(auditor)
    for url in _urls(storage_app, imported):
        assert client.get(url).status_code == 200, url
    page = client.get(_urls(storage_app)[1]).content.decode()
    assert 'type="file"' not in page
    review_page = client.get(_urls(storage_app, imported)[2]).content.decode()
    assert 'name="decision"' not in review_page

    before = snapshot(storage_app)
    assert upload(client, storage_app, imported.file.open("rb").read()).status_code == 403
    review = _urls(storage_app, imported)[2]
    assert client.post(review, {"decision": "accept_all"}).status_code == 403
    assert QuestionnaireImport.objects.count() == 1
    assert snapshot(storage_app) == before
    assert set(imported.proposals.values_list("decision", flat=True)) == {ProposalDecision.PENDING}


def test_only_the_security_office_decides(login, applicant, colleague, ciso, storage_app, imported):
    review = reverse("questionnaires:review", args=[storage_app.pk, imported.pk])
    for user in (applicant, colleague, ciso):
        assert login(user).post(review, {"decision": "accept_all"}).status_code == 403
    page = login(applicant).get(review).content.decode()
    assert "これらの回答はセキュリティ担当が確認します。" in page
    assert set(imported.proposals.values_list("decision", flat=True)) == {ProposalDecision.PENDING}


def test_the_ciso_cannot_import(login, ciso, storage_app, imported):
    data = imported.file.open("rb").read()
    assert upload(login(ciso), storage_app, data).status_code == 403


def test_the_stored_workbook_is_an_attachment(login, security, storage_app, imported):
    url = reverse("questionnaires:workbook", args=[storage_app.pk, imported.pk])
    response = login(security).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        'attachment; filename="questionnaire-answers_'
    )
    assert b"".join(response.streaming_content) == imported.file.open("rb").read()
