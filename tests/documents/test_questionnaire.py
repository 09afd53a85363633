"""The vendor questionnaire: its layout, the round trip through openpyxl and
LibreOffice, and every reason an import is refused (all or nothing)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from cloudjudge.documents import (
    Answer,
    QuestionnaireError,
    build_questionnaire,
    proposals,
    read_questionnaire,
)
from cloudjudge.documents.questionnaire import (
    ANSWER_SHEET,
    COVER_SHEET,
    IDENTITY_SHEET,
    fingerprint,
    requirement_text,
)
from cloudjudge.labels import ANSWER_CHOICES

ANSWERED = ("SEL", "S1", "S2", "EXIT")


def _workbook(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _fill(wb: Workbook) -> dict[str, tuple[str | None, str, str]]:
    """Answer every row the way a vendor would; return what was written per ID."""
    ws = wb[ANSWER_SHEET]
    written = {}
    for row in range(2, ws.max_row + 1):
        item_id = ws[f"A{row}"].value
        n = row - 2
        answer = (*ANSWER_CHOICES, None)[n % 5]
        explanation = (
            f"{item_id} について: 当社の手順書 第{n}版で対応しています。" if answer else ""
        )
        evidence = f"資料{n}.pdf p.{n + 1}" if answer else ""
        ws[f"D{row}"], ws[f"E{row}"], ws[f"F{row}"] = answer, explanation, evidence
        written[item_id] = (answer, explanation, evidence)
    return written


def _problems(excinfo: pytest.ExceptionInfo[QuestionnaireError]) -> list[tuple]:
    return [(p.sheet, p.row, p.column) for p in excinfo.value.problems]


# --------------------------------------------------------------------------- layout


def test_the_questionnaire_asks_the_decisions_items_the_provider_carries_out(
    make_questionnaire_request, catalog
):
    app = make_questionnaire_request("storage")
    required = [r["id"] for r in app.decision["required"] if r["id"].split("-")[0] in ANSWERED]
    expected = [i for i in required if catalog.item(i).party in ("provider", "both")]
    assert app.item_ids == tuple(expected)
    assert {i.split("-")[0] for i in expected} == {"SEL", "S1", "EXIT"}  # PROC etc. left out
    # The city's own measures are required, yet never leave the city: all of
    # 別紙1② (the internet PCs, S2-01…22) and the city-side S1 rows.
    city = [i for i in required if catalog.item(i).party == "city"]
    assert {i for i in city if i.startswith("S2-")} == {f"S2-{n:02}" for n in range(1, 23)}
    assert "S1-11" in city

    ws = _workbook(build_questionnaire(app))[ANSWER_SHEET]
    ids = [ws[f"A{r}"].value for r in range(2, ws.max_row + 1)]
    assert ids == expected
    sheet_text = "\n".join(
        str(c.value) for sheet in _workbook(build_questionnaire(app)) for r in sheet for c in r
    )
    for item_id in city:
        assert item_id not in sheet_text
        assert catalog.item(item_id).text not in sheet_text
    assert "インターネットパソコン" not in sheet_text
    headers = [ws.cell(1, c).value for c in range(1, 8)]
    assert headers == ["ID", "区分・条項", "要件", "回答", "説明", "根拠資料", "申請番号"]


def test_requirement_text_is_the_catalogs_verbatim_text(make_questionnaire_request, catalog):
    ws = _workbook(build_questionnaire(make_questionnaire_request()))[ANSWER_SHEET]
    for row in range(2, ws.max_row + 1):
        item = catalog.item(ws[f"A{row}"].value)
        assert item.text in ws[f"C{row}"].value
        assert ws[f"C{row}"].value == requirement_text(item)
        assert item.clause in ws[f"B{row}"].value
        assert ws[f"C{row}"].alignment.wrap_text


def test_only_the_answer_columns_are_unlocked_and_the_sheet_is_protected(
    make_questionnaire_request,
):
    wb = _workbook(build_questionnaire(make_questionnaire_request()))
    ws = wb[ANSWER_SHEET]
    assert ws.protection.sheet and not ws.protection.password
    assert wb[COVER_SHEET].protection.sheet
    for row in range(1, ws.max_row + 1):
        locked = {c: ws[f"{c}{row}"].protection.locked for c in "ABCDEFG"}
        if row == 1:
            assert all(locked.values())
        else:
            assert locked == dict.fromkeys("ABCG", True) | dict.fromkeys("DEF", False)


def test_the_answer_column_has_a_drop_down_of_the_four_choices(make_questionnaire_request):
    ws = _workbook(build_questionnaire(make_questionnaire_request()))[ANSWER_SHEET]
    (validation,) = ws.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"対応可,一部対応,対応不可,該当なし"'
    assert str(validation.sqref) == f"D2:D{ws.max_row}"
    assert validation.showErrorMessage and validation.allow_blank


def test_the_answer_sheet_is_print_ready(make_questionnaire_request):
    ws = _workbook(build_questionnaire(make_questionnaire_request()))[ANSWER_SHEET]
    assert ws.print_title_rows == "$1:$1"  # header row on every page
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.column_dimensions["C"].width >= 60
    assert ws.column_dimensions["G"].hidden  # the row's application number
    assert ws.freeze_panes == "A2"
    assert "&P / &N" in ws.oddFooter.center.text


def test_the_cover_names_the_service_department_number_and_due_date(
    make_questionnaire_request, catalog
):
    app = make_questionnaire_request()
    ws = _workbook(build_questionnaire(app))[COVER_SHEET]
    cells = {
        ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)
    }  # label → value
    assert cells["申請番号"] == "2025-0007"
    assert cells["サービス名"] == "オンラインストレージ"
    assert cells["申請部署"] == "市民局 市民生活部 市民協働課"
    assert cells["回答期限"] == "令和7年7月31日"  # the city's 和暦 (CLOUDJUDGE_DATE_STYLE)
    assert cells["判断基準"] == catalog.label
    assert cells["識別コード"] == fingerprint("2025-0007", catalog.label, app.item_ids)
    text = "\n".join(str(ws.cell(r, 1).value) for r in range(1, ws.max_row + 1))
    assert "記入要領" in text and "プルダウン" in text and "該当なし" in text


def test_the_identity_is_kept_in_a_hidden_sheet(make_questionnaire_request, catalog):
    app = make_questionnaire_request()
    ws = _workbook(build_questionnaire(app))[IDENTITY_SHEET]
    assert ws.sheet_state == "hidden"
    values = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert values["application_number"] == "2025-0007"
    assert values["items"] == ",".join(app.item_ids)
    assert values["fingerprint"] == fingerprint("2025-0007", catalog.label, app.item_ids)


def test_an_application_without_items_to_ask_is_refused(make_questionnaire_request, decisions):
    app = make_questionnaire_request()
    empty = app.__class__(**{**app.__dict__, "decision": {**decisions["storage"], "required": []}})
    with pytest.raises(ValueError, match="確認する項目"):
        build_questionnaire(empty)


# --------------------------------------------------------------------------- round trip


def test_openpyxl_round_trip_returns_every_answer(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    written = _fill(wb)
    answers = read_questionnaire(_bytes(wb), app)
    assert [a.item_id for a in answers] == list(app.item_ids)
    for answer in answers:
        assert (answer.answer, answer.explanation, answer.evidence) == written[answer.item_id]


@pytest.fixture(scope="module")
def libreoffice_answers(libreoffice, make_questionnaire_request, tmp_path_factory):
    """Generate, fill with openpyxl, re-save with LibreOffice: (request, written, path)."""
    app = make_questionnaire_request()
    workdir = tmp_path_factory.mktemp("libreoffice")
    wb = _workbook(build_questionnaire(app))
    written = _fill(wb)
    filled = workdir / "questionnaire.xlsx"
    wb.save(filled)
    resaved = libreoffice.resave(filled, workdir)
    return app, written, resaved


def test_a_workbook_resaved_by_libreoffice_still_imports(libreoffice_answers):
    app, written, resaved = libreoffice_answers
    with zipfile.ZipFile(resaved) as package:
        assert "LibreOffice" in package.read("docProps/app.xml").decode()  # really re-saved
    answers = read_questionnaire(resaved.read_bytes(), app)
    assert len(answers) == len(app.item_ids)
    for answer in answers:
        assert (answer.answer, answer.explanation, answer.evidence) == written[answer.item_id]
    statuses = {p.item_id: p.status_label for p in proposals(answers)}
    assert set(statuses.values()) == {"対応済", "対応中", "未対応", "該当なし"}


def test_libreoffice_resave_without_the_hidden_sheet_still_imports(libreoffice_answers):
    """Should a re-save lose the hidden sheet, the cover still identifies the workbook."""
    app, written, resaved = libreoffice_answers
    wb = load_workbook(resaved)
    del wb[IDENTITY_SHEET]
    wb.defined_names.clear()
    answers = read_questionnaire(_bytes(wb), app)
    assert {a.item_id: a.answer for a in answers} == {k: v[0] for k, v in written.items()}


def test_libreoffice_resave_of_another_application_is_still_refused(
    libreoffice_answers, make_questionnaire_request
):
    _, _, resaved = libreoffice_answers
    other = make_questionnaire_request(number="2025-0099")
    with pytest.raises(QuestionnaireError, match="2025-0007"):
        read_questionnaire(resaved.read_bytes(), other)


# --------------------------------------------------------------------------- tolerance


def test_blanks_whitespace_and_full_width_forms_are_tolerated(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    ws = wb[ANSWER_SHEET]
    ws["A2"] = "  " + ws["A2"].value + "\u3000"  # spaces around the ID
    ws["D2"] = " 対応可\u3000"
    ws["E2"] = "\n  説明の前後に空白  \n"
    ws["D3"] = "一部 対応"
    ws["D4"] = "   "  # only spaces: unanswered
    ws["D5"] = None
    ws["F5"] = 12  # a number typed as the evidence reference
    ws["A6"] = ws["A6"].value.replace("-", "－").upper()  # full-width hyphen
    answers = {a.item_id: a for a in read_questionnaire(_bytes(wb), app)}
    first = app.item_ids
    assert answers[first[0]].answer == "対応可"
    assert answers[first[0]].explanation == "説明の前後に空白"
    assert answers[first[1]].answer == "一部対応"
    assert answers[first[2]].answer is None and not answers[first[2]].answered
    assert answers[first[3]].answer is None and answers[first[3]].evidence == "12"
    assert answers[first[4]].row == 6
    assert [p.item_id for p in proposals(answers.values())] == [first[0], first[1]]


def test_rows_may_be_reordered(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    ws = wb[ANSWER_SHEET]
    top = [c.value for c in ws[2]]
    bottom = [c.value for c in ws[ws.max_row]]
    for col, (a, b) in enumerate(zip(top, bottom, strict=True), start=1):
        ws.cell(2, col).value, ws.cell(ws.max_row, col).value = b, a
    ws.cell(2, 4).value = "対応可"
    answers = read_questionnaire(_bytes(wb), app)
    assert [a.item_id for a in answers] == list(app.item_ids)  # the decision's order
    assert answers[-1].answer == "対応可" and answers[-1].row == 2


def test_answers_map_to_proposed_checklist_statuses():
    cases = {
        "対応可": ("done", "対応済"),
        "一部対応": ("in_progress", "対応中"),
        "対応不可": ("todo", "未対応"),
        "該当なし": ("not_applicable", "該当なし"),
    }
    for answer, (status, status_label) in cases.items():
        proposal = Answer("S1-06", answer, "ログは 5 年保存", "運用手順書 4.2", 7).proposal
        assert proposal is not None
        assert (proposal.status, proposal.status_label) == (status, status_label)
        assert "ログは 5 年保存" in proposal.note and "運用手順書 4.2" in proposal.note
        assert proposal.reason == ("ログは 5 年保存" if answer == "該当なし" else "")
    assert Answer("S1-06", None, "", "", 7).proposal is None


# --------------------------------------------------------------------------- refusals


def _refused(data: bytes, app) -> pytest.ExceptionInfo[QuestionnaireError]:
    with pytest.raises(QuestionnaireError) as excinfo:
        read_questionnaire(data, app)  # raises: no partial list is ever returned
    assert excinfo.value.problems
    return excinfo


def test_an_altered_id_is_refused_with_its_row(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    _fill(wb)
    original = wb[ANSWER_SHEET]["A3"].value
    wb[ANSWER_SHEET]["A3"] = "SEL-A9"
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [(ANSWER_SHEET, 3, "A"), (ANSWER_SHEET, 3, "A")]
    unknown, missing = excinfo.value.problems
    assert "SEL-A9" in unknown.message and "判断基準にない ID" in unknown.message
    assert original in missing.message and "行がありません" in missing.message
    assert str(unknown).startswith("シート「回答」 3 行目 A 列（ID）: ")


def test_a_row_of_another_application_is_refused(make_questionnaire_request):
    app = make_questionnaire_request(number="2025-0007")
    other = make_questionnaire_request(number="2025-0012")
    wb = _workbook(build_questionnaire(app))
    _fill(wb)
    pasted = _workbook(build_questionnaire(other))[ANSWER_SHEET]
    for col in range(1, 8):  # the vendor pastes row 5 of the other questionnaire
        wb[ANSWER_SHEET].cell(5, col).value = pasted.cell(5, col).value
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [(ANSWER_SHEET, 5, "G")]
    message = excinfo.value.problems[0].message
    assert "2025-0012" in message and "2025-0007" in message


def test_a_whole_workbook_of_another_application_is_refused(make_questionnaire_request):
    other = make_questionnaire_request(number="2025-0012")
    wb = _workbook(build_questionnaire(other))
    _fill(wb)
    excinfo = _refused(_bytes(wb), make_questionnaire_request(number="2025-0007"))
    (problem,) = excinfo.value.problems
    assert problem.sheet == IDENTITY_SHEET
    assert "申請番号「2025-0012」のもの" in problem.message


def test_an_answer_outside_the_list_is_refused(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    _fill(wb)
    wb[ANSWER_SHEET]["D4"] = "対応済み"
    wb[ANSWER_SHEET]["D9"] = "はい"
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [(ANSWER_SHEET, 4, "D"), (ANSWER_SHEET, 9, "D")]
    assert "「対応済み」は選択肢" in excinfo.value.problems[0].message
    assert "対応可 / 一部対応 / 対応不可 / 該当なし" in excinfo.value.problems[0].message
    assert "D 列（回答）" in str(excinfo.value)


def test_an_added_row_is_refused(make_questionnaire_request):
    app = make_questionnaire_request("groupware")  # no S2 items in this application
    assert not any(i.startswith("S2-") for i in app.item_ids)
    wb = _workbook(build_questionnaire(app))
    _fill(wb)
    ws = wb[ANSWER_SHEET]
    extra = ws.max_row + 1
    ws.append(["S2-01", "別紙1②", "追加された行", "対応可", "", "", "2025-0007"])
    ws.append([None, None, None, "対応可", "IDのない行", None, None])
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [(ANSWER_SHEET, extra, "A"), (ANSWER_SHEET, extra + 1, "A")]
    message = excinfo.value.problems[0].message
    assert "本市が実施する対策で、事業者への確認項目ではありません" in message
    assert "ID が空です" in excinfo.value.problems[1].message


def test_a_forged_row_of_a_city_side_measure_is_refused_naming_the_row(
    make_questionnaire_request, catalog
):
    """別紙1② S2-01 is required of this application, but the city carries it out:
    a vendor who adds its row (to close the city's internet-PC control) is refused."""
    app = make_questionnaire_request("storage")
    assert "S2-01" in {r["id"] for r in app.decision["required"]}
    assert "S2-01" not in app.item_ids
    wb = _workbook(build_questionnaire(app))
    _fill(wb)
    ws = wb[ANSWER_SHEET]
    forged = ws.max_row + 1
    item = catalog.item("S2-01")
    forged_row = ["S2-01", "別紙1②", requirement_text(item), "該当なし", "貴市の責任範囲です"]
    ws.append([*forged_row, "", "2025-0007"])
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [(ANSWER_SHEET, forged, "A")]
    message = str(excinfo.value)
    assert f"シート「回答」 {forged} 行目 A 列（ID）" in message
    assert "ID「S2-01」は本市が実施する対策で、事業者への確認項目ではありません" in message


def test_a_duplicated_row_is_refused(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    ws = wb[ANSWER_SHEET]
    ws.append([c.value for c in ws[2]])
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [(ANSWER_SHEET, ws.max_row, "A")]
    assert "重複" in excinfo.value.problems[0].message


def test_a_removed_row_is_refused(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    _fill(wb)
    removed = wb[ANSWER_SHEET]["A5"].value
    wb[ANSWER_SHEET].delete_rows(5)
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [(ANSWER_SHEET, 5, "A")]
    assert f"ID「{removed}」の行がありません" in excinfo.value.problems[0].message


def test_an_edited_requirement_is_refused(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    ws = wb[ANSWER_SHEET]
    ws["C7"] = ws["C7"].value.replace("こと", "よう努めること", 1)
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [(ANSWER_SHEET, 7, "C")]


def test_not_applicable_without_a_reason_is_refused(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    wb[ANSWER_SHEET]["D6"] = "該当なし"
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [(ANSWER_SHEET, 6, "E")]
    assert "理由" in excinfo.value.problems[0].message


def test_a_questionnaire_for_an_old_item_list_is_refused(make_questionnaire_request):
    """The application was re-judged after the questionnaire went out: S1-01 is new."""
    sent = make_questionnaire_request("groupware")
    now = make_questionnaire_request("groupware_critical")
    assert set(now.item_ids) - set(sent.item_ids) == {"S1-01"}
    wb = _workbook(build_questionnaire(sent))
    _fill(wb)
    excinfo = _refused(_bytes(wb), now)
    first = excinfo.value.problems[0]
    assert (first.sheet, "識別コード") == (IDENTITY_SHEET, first.message[:5])
    assert any("S1-01" in p.message for p in excinfo.value.problems)


def test_a_workbook_from_elsewhere_is_refused(make_questionnaire_request, tmp_path: Path):
    app = make_questionnaire_request()
    excinfo = _refused(b"not a workbook", app)
    assert "Excel ブック" in excinfo.value.problems[0].message
    plain = Workbook()
    plain.active["A1"] = "ID"
    excinfo = _refused(_bytes(plain), app)
    assert "cloudjudge が作成した質問票ではありません" in str(excinfo.value)


def test_every_problem_is_reported_at_once(make_questionnaire_request):
    app = make_questionnaire_request()
    wb = _workbook(build_questionnaire(app))
    _fill(wb)
    ws = wb[ANSWER_SHEET]
    ws["A3"] = "SEL-Z9"
    ws["D4"] = "対応済み"
    ws["G8"] = "2025-0012"
    excinfo = _refused(_bytes(wb), app)
    assert _problems(excinfo) == [
        (ANSWER_SHEET, 3, "A"),
        (ANSWER_SHEET, 3, "A"),
        (ANSWER_SHEET, 4, "D"),
        (ANSWER_SHEET, 8, "G"),
    ]
    assert str(excinfo.value).count("\n") == 3  # one line per problem


def test_an_archive_that_unpacks_to_too_much_is_refused_before_parsing(
    make_questionnaire_request, monkeypatch
):
    from cloudjudge.documents import questionnaire

    app = make_questionnaire_request()
    monkeypatch.setattr(questionnaire, "LIMITS", questionnaire.PackageLimits(10_000))
    excinfo = _refused(build_questionnaire(app), app)
    assert "大きすぎます" in excinfo.value.problems[0].message
