"""What the real lists carry (issue 12): status words in 備考, renewals under a
new number, merged data cells, renewals applied late, .ods, the example row;
and refusals that name what was found."""

from __future__ import annotations

from datetime import date

import pytest

from cloudjudge.registries import (
    RegistryImportError,
    diff_entries,
    expiry_date,
    read_registry,
    status_on,
)
from cloudjudge.registries.status import Unreadable, read_status


def problems_of(source, kind, **kw):
    with pytest.raises(RegistryImportError) as info:
        read_registry(source, kind, **kw)
    return info.value.problems


# --------------------------------------------------------------------------- status words


@pytest.mark.parametrize(
    ("text", "word", "on"),
    [
        ("取下げ", "withdrawn", None),
        ("2024年5月1日 登録取消", "withdrawn", date(2024, 5, 1)),
        ("取り下げ（R6.5.1）", "withdrawn", date(2024, 5, 1)),
        ("更新申請中（2025/7/20 申請）", "renewal_pending", date(2025, 7, 20)),
        ("失効（令和7年8月1日）", "lapsed", date(2025, 8, 1)),
        ("一時停止", "suspended", None),
        ("登録", "registered", None),
        ("ＲＥ：更新審査中", "renewal_pending", None),
    ],
)
def test_status_words_with_or_without_a_date(text, word, on):
    note = read_status(text)
    assert (note.word, note.on) == (word, on)


@pytest.mark.parametrize("text", [None, "", "－", "なし", "更新申請なし"])
def test_notes_that_state_no_status(text):
    assert read_status(text) is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("更新申請を取下げ", "「更新申請中」と「取下げ・登録取消」の両方"),
        ("旧名称: 試験ストレージ", "状態を表す語がありません"),
        ("取下げ 2024/5/1、再申請 2024/6/1", "日付が複数あり"),
        ("取下げ 2024/2/30", "存在しない日付"),
    ],
)
def test_notes_that_cannot_be_read_say_why(text, fragment):
    with pytest.raises(Unreadable) as caught:
        read_status(text)
    assert fragment in str(caught.value) and repr(text) in str(caught.value)


def test_status_words_in_the_notes_set_the_entry_and_the_rest_are_warnings(fixture_path):
    parsed = read_registry(fixture_path("ismap_notes.xlsx"), "ismap")
    by = {e.number: e for e in parsed.entries}
    assert len(by) == 8  # every row imported, the unreadable notes too
    assert by["C21-1002-1"].withdrawn and by["C21-1002-1"].status_since == date(2025, 1, 31)
    renewal = by["C21-1003-1"]
    assert renewal.renewal_pending and renewal.renewal_applied_on == date(2025, 1, 10)
    assert by["C21-1004-1"].lapsed and by["C21-1004-1"].status_since is None
    assert by["C21-1005-1"].suspended and by["C21-1005-1"].status_since == date(2025, 2, 1)
    unread = ("C21-1006-1", "C21-1007-1")
    assert all(not (by[n].withdrawn or by[n].renewal_pending) for n in unread)

    day = date(2025, 6, 1)
    assert status_on(by["C21-1001-1"], day) == "valid"
    assert status_on(by["C21-1002-1"], day) == "withdrawn"
    assert status_on(by["C21-1002-1"], date(2025, 1, 30)) != "withdrawn"  # before its date
    assert status_on(by["C21-1004-1"], day) == "lapsed"
    assert status_on(by["C21-1005-1"], day) == "suspended"
    assert status_on(by["C21-1008-1"], day) == "valid"  # 2099/3/31 取下げ予定: not yet

    assert [(w.code, w.row, w.column) for w in parsed.warnings] == [
        ("unread_note", 7, "備考"),
        ("unread_note", 8, "備考"),
    ]
    assert "旧名称: 試験ストレージ" in parsed.warnings[0].message
    assert "状態は他の列のとおりに取り込みました" in parsed.warnings[0].message
    assert "両方があります" in parsed.warnings[1].message


def test_a_status_column_that_cannot_be_read_refuses_the_file():
    data = "登録番号,サービス名,事業者,監査対象期間の末日,状態\nC21-0001-1,A,B,2024/3/31,要確認\n"
    (problem,) = problems_of(data.encode(), "ismap", filename="s.csv")
    assert (problem.code, problem.row, problem.column) == ("bad_value", 2, "状態")
    assert "状態を表す語がありません（値: '要確認'）" in problem.message


def test_a_dated_flag_keeps_its_date():
    data = (
        "登録番号,サービス名,事業者,監査対象期間の末日,取下げ,更新申請中\n"
        "C21-0001-1,A,B,2024/3/31,2025/4/1,\n"
        "C21-0002-1,C,D,2024/3/31,,○（2025/7/1 申請）\n"
    )
    first, second = read_registry(data.encode(), "ismap").entries
    assert first.withdrawn and first.status_since == date(2025, 4, 1)
    assert second.renewal_pending and second.renewal_applied_on == date(2025, 7, 1)


# --------------------------------------------------------------------------- ISMAP 3.5


def test_a_renewal_applied_for_after_the_expiry_does_not_keep_the_registration(fixture_path):
    parsed = read_registry(fixture_path("ismap_renewal_late.xlsx"), "ismap")
    in_time, late, undated = parsed.entries
    assert expiry_date(in_time) == date(2025, 1, 31)
    day = date(2025, 6, 1)
    assert in_time.renewal_applied_on == date(2025, 1, 31)
    assert status_on(in_time, day) == "renewal_pending"  # applied on the last valid day
    assert late.renewal_applied_on == date(2025, 2, 1)
    assert status_on(late, day) == "renewal_late"  # the day after: 3.5 does not apply
    assert status_on(late, date(2025, 1, 31)) == "valid"  # still valid until its expiry
    assert status_on(undated, day) == "renewal_pending"  # the list gives no date


# --------------------------------------------------------------------------- renewals


def test_a_renewal_under_a_new_number_is_not_a_removal(fixture_path):
    before = read_registry(fixture_path("ismap_renewal_v1.csv"), "ismap").entries
    after = read_registry(fixture_path("ismap_renewal_v2.csv"), "ismap").entries
    diff = diff_entries(before, after)
    assert diff.added == () and diff.removed == ()
    assert [(r.before.number, r.after.number, r.how) for r in diff.renewed] == [
        ("C23-0020-1", "C23-0020-2", "suffix"),  # the suffix rose; the name changed too
        ("C22-0300-1", "C24-0777-1", "name_provider"),  # same name, same provider
    ]
    assert diff.summary() == "追加 0 件、削除 0 件、変更 0 件、番号が変わった更新 2 件"
    assert diff.as_dict()["renewed"][0] == {
        "kind": "ismap",
        "before": "C23-0020-1",
        "after": "C23-0020-2",
        "how": "suffix",
        "service_name": "枝番クラウド プラス",
        "provider": "株式会社更新",
        "before_service_name": "枝番クラウド",
    }


def test_a_namesake_of_two_removed_entries_is_not_guessed(fixture_path):
    from cloudjudge.registries import RegistryEntry

    def entry(number, name="同名", provider="株式会社X"):
        return RegistryEntry("lgwan_asp", number, name, provider)

    diff = diff_entries([entry("A1"), entry("A2")], [entry("A9")])
    assert diff.renewed == () and len(diff.removed) == 2 and len(diff.added) == 1


# --------------------------------------------------------------------------- merged cells, .ods


def test_vertically_merged_data_cells_carry_their_value_down(fixture_path):
    parsed = read_registry(fixture_path("lgwan_asp_merged.xlsx"), "lgwan_asp")
    assert [(e.number, e.category) for e in parsed.entries] == [
        ("A300001", "アプリケーション及びコンテンツサービス"),
        ("A300002", "アプリケーション及びコンテンツサービス"),
        ("A300003", "アプリケーション及びコンテンツサービス"),
        ("A300004", "ホスティングサービス"),
        ("A300005", "ホスティングサービス"),
        ("A300006", "ファシリティサービス"),
    ]


def test_an_ods_list_is_read_with_its_merged_cells_and_typed_values(fixture_path):
    parsed = read_registry(fixture_path("lgwan_asp_list.ods"), "lgwan_asp")
    assert parsed.file_format == "ods" and parsed.sheet == "LGWAN-ASP一覧"
    assert parsed.header_row == 2
    first, second, third = parsed.entries
    assert first.number == "C400001" and first.registered_on == date(2023, 4, 1)
    assert second.category == first.category == "アプリケーション及びコンテンツサービス"
    assert second.registered_on == date(2024, 10, 1)
    assert third.number == "400003"  # a number cell, not "400003.0"
    assert [e.source_row for e in parsed.entries] == [3, 4, 5]


def test_an_ods_that_is_not_a_spreadsheet_is_refused_in_japanese():
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        package.writestr("content.xml", "<office:document-content/>")
    (problem,) = problems_of(out.getvalue(), "ismap", filename="memo.odt")
    assert problem.code == "unreadable"
    assert "表計算ではない OpenDocument ファイルです" in problem.message


# --------------------------------------------------------------------------- example row


def test_the_templates_example_row_is_never_imported(fixture_path):
    parsed = read_registry(fixture_path("ismap_with_example_row.xlsx"), "ismap")
    assert [e.number for e in parsed.entries] == ["C21-3001-1", "C21-3002-1"]
    (warning,) = parsed.warnings
    assert (warning.code, warning.row) == ("example_row", 2)
    assert warning.message == "テンプレートの記入例の行なので取り込みませんでした"


# --------------------------------------------------------------------------- what was found


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"%PDF-1.7\n...", "PDF ファイルです"),
        (b"<!DOCTYPE html><html><table>", "HTML（ウェブページ）です"),
        (b"\x89PNG\r\n\x1a\n....", "PNG 画像です"),
    ],
)
def test_files_of_another_kind_are_named(data, fragment):
    (problem,) = problems_of(data, "ismap", filename="list")
    assert problem.code == "unreadable" and fragment in problem.message


def test_a_word_document_is_named(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("ISMAP クラウドサービスリスト")
    path = tmp_path / "list.docx"
    document.save(path)
    (problem,) = problems_of(path, "ismap")
    assert "Word 文書（.docx）です" in problem.message


def test_no_heading_names_the_first_row_and_the_sheets_found():
    data = "タイトル,説明\n,\n".encode()
    (problem,) = problems_of(data, "lgwan_asp", filename="x.csv")
    assert problem.code == "no_header"
    assert "最初に文字がある行は 1 行目: タイトル, 説明" in problem.message


def test_the_wrong_kind_names_the_columns_it_found(fixture_path):
    problems = problems_of(fixture_path("ismap_renewal_v1.csv"), "lgwan_asp")
    (problem,) = [p for p in problems if p.column == "サービスコード"]
    assert problem.message.startswith(
        "「サービスコード」の列がありません（見つかった列: 登録番号, クラウドサービスの名称, 事業者"
    )


def test_a_heading_only_file_says_the_rows_below_are_empty():
    (problem,) = problems_of("登録番号,サービス名,事業者,監査対象期間の末日\n".encode(), "ismap")
    assert problem.code == "no_rows" and "見出しは 1 行目" in problem.message


def test_a_formula_in_a_value_is_refused():
    data = (
        "登録番号,サービス名,事業者,監査対象期間の末日\n"
        'C21-0001-1,"=HYPERLINK(""http://evil"")",B,2024/3/31\n'
    )
    (problem,) = problems_of(data.encode(), "ismap")
    assert (problem.code, problem.row, problem.column) == ("bad_value", 2, "サービス名")
    assert "数式や命令のような値は取り込めません" in problem.message
