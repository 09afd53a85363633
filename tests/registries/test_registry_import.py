"""Reading registry files: every good fixture, every broken kind, headings, encodings."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest

from cloudjudge.registries import (
    RegistryImportError,
    file_sha256,
    read_registry,
)


def problems_of(source, kind, **kw):
    with pytest.raises(RegistryImportError) as info:
        read_registry(source, kind, **kw)
    return info.value.problems


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


# --------------------------------------------------------------------------- good fixtures


def test_ismap_fixture_title_rows_merged_two_row_heading(fixture_path):
    parsed = read_registry(fixture_path("ismap_list.xlsx"), "ismap")
    assert parsed.file_format == "xlsx"
    assert parsed.sheet == "クラウドサービスリスト"  # not the notes sheet before it
    assert parsed.header_row == 3  # below two title rows
    assert parsed.columns["audit_period_end"] == "監査対象期間（終了）"
    assert parsed.columns["regions"] == "選択可能なリージョン"
    assert parsed.row_count == 6  # the ※ footnote row is not an entry
    by_number = {e.number: e for e in parsed.entries}
    assert list(by_number) == [
        "C21-0101-1",
        "C22-0202-1",
        "C22-0303-2",
        "C23-0404-1",
        "C24-0505-1",
        "C24-0606-1",
    ]
    assert [e.source_row for e in parsed.entries] == [5, 6, 7, 8, 9, 10]
    assert {e.source_sheet for e in parsed.entries} == {"クラウドサービスリスト"}

    first = by_number["C21-0101-1"]  # Excel date cells
    assert first.service_name == "さくらぎクラウド基盤"
    assert first.provider == "株式会社桜木システムズ"
    assert first.audit_period_end == date(2024, 3, 31)
    assert first.registered_on == date(2024, 7, 10)
    assert first.source_url == "https://registry.example.jp/ismap/C21-0101-1"
    assert first.regions == ("東京", "大阪")
    assert not first.renewal_pending and not first.withdrawn

    wide = by_number["C22-0202-1"]  # written Ｃ２２－０２０２－１; era dates
    assert wide.service_name == "ＡＢＣドライブ ビジネス"  # as written, ideographic space folded
    assert wide.audit_period_end == date(2024, 9, 30)
    assert wide.registered_on == date(2025, 1, 20)
    assert wide.source_url == ""

    pending = by_number["C22-0303-2"]  # slash strings, R5.11.2
    assert pending.renewal_pending and not pending.withdrawn
    assert pending.audit_period_end == date(2023, 6, 30)
    assert pending.registered_on == date(2023, 11, 2)

    withdrawn = by_number["C23-0404-1"]  # ISO and 年月日 strings
    assert withdrawn.withdrawn
    assert withdrawn.audit_period_end == date(2023, 12, 31)
    assert withdrawn.registered_on == date(2024, 6, 3)

    full_width_date = by_number["C24-0505-1"]  # ２０２４／１０／３０, Ｒ６．１２．２
    assert full_width_date.audit_period_end == date(2024, 10, 30)
    assert full_width_date.registered_on == date(2024, 12, 2)
    assert by_number["C24-0606-1"].regions == ("東京", "大阪", "福岡")


def test_ismap_liu_fixture_range_column_and_status_words(fixture_path):
    parsed = read_registry(fixture_path("ismap_liu_list.xlsx"), "ismap_liu")
    assert parsed.header_row == 2
    assert parsed.columns["number"] == "ISMAP-LIU登録番号"
    assert parsed.columns["audit_period"] == "監査対象期間"
    entries = {e.number: e for e in parsed.entries}
    assert len(entries) == 4
    assert {e.kind for e in entries.values()} == {"ismap_liu"}
    assert entries["L23-0001-1"].audit_period_end == date(2024, 3, 31)  # 2023/4/1～2024/3/31
    assert entries["L23-0002-1"].audit_period_end == date(2024, 6, 30)  # 令和…～令和…
    assert entries["L23-0002-1"].renewal_pending  # 状態: 更新申請中
    assert entries["L24-0003-1"].audit_period_end == date(2024, 9, 30)  # …から…まで
    assert entries["L24-0003-1"].provider == "ＱＵＩＣＫ ＢＯＴ Ｉｎｃ．"
    assert entries["L22-0004-1"].audit_period_end == date(2021, 12, 31)  # R3.1.1～R3.12.31
    assert entries["L22-0004-1"].withdrawn  # 状態: 取下げ
    assert entries["L22-0004-1"].registered_on == date(2022, 5, 2)


def test_lgwan_cp932_csv_with_title_line(fixture_path):
    parsed = read_registry(fixture_path("lgwan_asp_list_cp932.csv"), "lgwan_asp")
    assert parsed.file_format == "csv"
    assert parsed.encoding == "cp932"
    assert parsed.sheet == "lgwan_asp_list_cp932.csv"
    assert parsed.header_row == 3
    entries = {e.number: e for e in parsed.entries}
    assert list(entries) == ["A100001", "A100002", "A100003", "A100004", "A100005"]
    assert entries["A100001"].provider == "㈱みらい行政"
    assert entries["A100001"].registered_on == date(2019, 5, 7)  # 令和元年5月7日
    assert entries["A100001"].category == "アプリケーション及びコンテンツサービス"
    assert entries["A100001"].audit_period_end is None
    assert entries["A100002"].service_name == "ｺﾝﾋﾞﾆ交付ｻｰﾋﾞｽ"
    assert entries["A100002"].provider == "髙橋システム株式会社"
    assert entries["A100003"].service_name == "庁内ファイル共有①"
    assert entries["A100003"].registered_on == date(2020, 10, 1)  # Ｒ２．１０．１
    assert entries["A100004"].withdrawn
    assert entries["A100005"].registered_on == date(2022, 4, 1)  # 20220401
    assert [e.source_row for e in parsed.entries] == [4, 5, 6, 7, 8]


def test_lgwan_utf8_bom_csv(fixture_path):
    parsed = read_registry(fixture_path("lgwan_asp_list_utf8bom.csv"), "lgwan_asp")
    assert parsed.encoding == "utf-8-sig"
    assert parsed.header_row == 1
    assert parsed.columns == {
        "number": "サービスコード",
        "service_name": "サービス名称",
        "provider": "事業者",
        "category": "分類",
        "registered_on": "登録年月日",
    }
    first, second, third = parsed.entries
    assert first.provider == "𠮷田システム株式会社"  # not in CP932: proves UTF-8
    assert second.service_name == "窓口予約 サービス"  # a line break inside the cell
    assert third.source_row == 4  # the record number, as Excel shows it
    assert third.category == "ファシリティサービス"


def test_bytes_and_file_objects_read_like_paths(fixture_path):
    path = fixture_path("ismap_list.xlsx")
    data = path.read_bytes()
    from_path = read_registry(path, "ismap")
    from_bytes = read_registry(data, "ismap", filename="upload.xlsx")
    from_file = read_registry(io.BytesIO(data), "ismap")
    assert from_path.entries == from_bytes.entries == from_file.entries
    assert from_path.sha256 == hashlib.sha256(data).hexdigest() == file_sha256(path)
    assert file_sha256(data) == file_sha256(io.BytesIO(data)) == from_bytes.sha256


# --------------------------------------------------------------------------- broken fixtures


def test_missing_required_column_is_named(fixture_path):
    (problem,) = problems_of(fixture_path("broken_missing_column.xlsx"), "ismap")
    assert problem.code == "missing_column"
    assert (problem.sheet, problem.row, problem.column) == ("一覧", None, "事業者")
    assert problem.message.startswith(
        "「事業者」の列がありません（見つかった列: 登録番号, クラウドサービスの名称, "
        "監査対象期間の末日, 登録日）。受け付ける見出し: 事業者、事業者名"
    )
    assert "事業者名" in problem.message  # lists the accepted headings
    assert str(problem).startswith("シート「一覧」 列「事業者」: ")


def test_unparseable_dates_name_sheet_row_column_and_value(fixture_path):
    problems = problems_of(fixture_path("broken_bad_date.xlsx"), "ismap")
    assert [(p.code, p.sheet, p.row, p.column) for p in problems] == [
        ("bad_date", "一覧", 3, "監査対象期間の末日"),
        ("bad_date", "一覧", 4, "登録日"),
    ]
    assert "存在しない日付です" in problems[0].message and "2024/2/30" in problems[0].message
    assert "日付として読めません" in problems[1].message and "未定" in problems[1].message


def test_duplicate_registration_number_names_both_rows(fixture_path):
    (problem,) = problems_of(fixture_path("broken_duplicate.csv"), "ismap")
    assert problem.code == "duplicate"
    assert (problem.sheet, problem.row, problem.column) == ("broken_duplicate.csv", 5, "登録番号")
    assert "C21-0001-1" in problem.message  # the full-width spelling counts as the same
    assert "2行目" in problem.message and "5行目" in problem.message


def test_every_problem_is_reported_at_once(fixture_path):
    with pytest.raises(RegistryImportError) as info:
        read_registry(fixture_path("broken_many.xlsx"), "ismap")
    error = info.value
    assert [(p.code, p.row, p.column) for p in error.problems] == [
        ("empty_required", 3, "クラウドサービスの名称"),
        ("bad_date", 4, "監査対象期間の末日"),
        ("duplicate", 5, "登録番号"),
        ("bad_value", 6, "更新申請中"),
        ("bad_value", 7, "URL"),
    ]
    assert "javascript:alert(1)" in error.problems[-1].message
    assert len(str(error).splitlines()) == 5
    assert error.as_dicts()[0] == {
        "code": "empty_required",
        "sheet": "一覧",
        "row": 3,
        "column": "クラウドサービスの名称",
        "message": "必須の項目が空です",
    }


def test_undecodable_csv_is_refused_with_a_clear_message(fixture_path):
    (problem,) = problems_of(fixture_path("broken_encoding.csv"), "ismap")
    assert problem.code == "unreadable"
    assert "文字コードを判別できません" in problem.message
    assert "CP932" in problem.message


def test_reading_a_list_as_the_wrong_kind_is_refused(fixture_path):
    problems = problems_of(fixture_path("ismap_list.xlsx"), "lgwan_asp")
    assert [(p.code, p.column) for p in problems] == [("missing_column", "サービスコード")]
    problems = problems_of(fixture_path("lgwan_asp_list_cp932.csv"), "ismap")
    assert [(p.code, p.column) for p in problems] == [
        ("missing_column", "登録番号"),
        ("missing_column", "監査対象期間の末日（または監査対象期間）"),
    ]


# --------------------------------------------------------------------------- other refusals


def test_a_heading_without_rows_is_refused():
    data = csv_bytes("登録番号,サービス名,事業者,監査対象期間の末日\n,,,\n")
    (problem,) = problems_of(data, "ismap")
    assert problem.code == "no_rows"


def test_no_heading_in_the_first_twenty_rows():
    text = (
        "一覧\n" * 20 + "登録番号,サービス名,事業者,監査対象期間の末日\nC21-0001-1,A,B,2024/3/31\n"
    )
    (problem,) = problems_of(csv_bytes(text), "ismap", filename="late.csv")
    assert problem.code == "no_header"
    assert problem.sheet == "late.csv"
    assert "登録番号" in problem.message and "監査対象期間の末日" in problem.message


def test_heading_found_after_title_rows_within_twenty_rows():
    text = (
        "一覧\n" * 19 + "登録番号,サービス名,事業者,監査対象期間の末日\nC21-0001-1,A,B,2024/3/31\n"
    )
    parsed = read_registry(csv_bytes(text), "ismap")
    assert parsed.header_row == 20
    assert parsed.entries[0].source_row == 21


def test_old_excel_and_utf16_are_refused():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64
    (problem,) = problems_of(ole, "ismap")
    assert problem.code == "unreadable" and ".xls" in problem.message
    utf16 = "登録番号,サービス名\n".encode("utf-16")
    (problem,) = problems_of(utf16, "ismap")
    assert problem.code == "unreadable" and "UTF-16" in problem.message
    (problem,) = problems_of(b"PK\x03\x04 not really a zip", "ismap")
    assert problem.code == "unreadable"
    assert "壊れている" in problem.message and "zip" in problem.message


def test_withdrawn_ismap_row_may_leave_the_audit_end_blank():
    text = (
        "登録番号,サービス名,事業者,監査対象期間の末日,取下げ\n"
        "C21-0001-1,A,B,,○\n"
        "C21-0002-1,C,D,,\n"
    )
    problems = problems_of(csv_bytes(text), "ismap")
    assert [(p.code, p.row, p.column) for p in problems] == [
        ("empty_required", 3, "監査対象期間の末日")
    ]


@pytest.mark.parametrize(
    ("cell", "renewal"),
    [
        *[(yes, True) for yes in ("○", "〇", "はい", "有", "TRUE", "2025/1/5")],
        *[(no, False) for no in ("", "×", "なし", "-", "０")],
    ],
)
def test_flag_values(cell, renewal):
    head = "登録番号,サービス名,事業者,監査対象期間の末日,更新申請中"
    text = f"{head}\nC21-0001-1,A,B,2024/3/31,{cell}\n"
    (entry,) = read_registry(csv_bytes(text), "ismap").entries
    assert entry.renewal_pending is renewal


# --------------------------------------------------------------------------- headings


@pytest.mark.parametrize(
    ("headings", "fields"),
    [
        (
            "ＩＳＭＡＰ登録番号,クラウドサービス名,クラウドサービス事業者,監査対象期間の末日",
            ("number", "service_name", "provider", "audit_period_end"),
        ),
        (
            "登録Ｎｏ．,サービス 名称,事業者の名称,監査対象期間(終了)",
            ("number", "service_name", "provider", "audit_period_end"),
        ),
        (
            "登録番号（必須）,クラウドサービスの名称※,提供事業者,監査期間　至",
            ("number", "service_name", "provider", "audit_period_end"),
        ),
        (
            "【登録番号】,「サービス名」,[事業者],監査の対象期間の末日,登録年月日",
            ("number", "service_name", "provider", "audit_period_end", "registered_on"),
        ),
    ],
)
def test_heading_variants(headings, fields):
    text = headings + "\nC21-0001-1,A,B,2024/3/31,2024/6/1\n"
    parsed = read_registry(csv_bytes(text), "ismap")
    assert set(fields) <= set(parsed.columns)
    assert parsed.entries[0].audit_period_end == date(2024, 3, 31)


def test_unrecognised_provider_variant_is_reported_as_missing():
    text = "登録Ｎｏ．,サービス名称,事業者名（正式名称）,監査対象期間の末日\nC21-1,A,B,2024/3/31\n"
    (problem,) = problems_of(csv_bytes(text), "ismap")
    assert (problem.code, problem.column) == ("missing_column", "事業者")


def test_two_row_heading_in_csv_with_empty_parent_cells():
    text = (
        "ISMAP一覧\n"
        "登録番号,サービス名,事業者,監査の対象期間,,登録日\n"
        ",,,自,至,\n"
        "C21-0001-1,A,B,2023/4/1,令和6年3月31日,R6.6.1\n"
    )
    parsed = read_registry(csv_bytes(text), "ismap")
    assert parsed.header_row == 2
    assert parsed.columns["audit_period_end"] == "監査の対象期間（至）"
    (entry,) = parsed.entries
    assert entry.audit_period_end == date(2024, 3, 31)
    assert entry.source_row == 4


# --------------------------------------------------------------------------- encodings


SAMPLE = (
    "サービスコード,サービス名,事業者,区分\n"
    "A1,電子申請サービス,株式会社いろは,アプリケーション及びコンテンツサービス\n"
)


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp932", "cp932")],
)
def test_encoding_detection(encoding, detected):
    parsed = read_registry(csv_bytes(SAMPLE, encoding), "lgwan_asp")
    assert parsed.encoding == detected
    assert parsed.entries[0].provider == "株式会社いろは"
    assert parsed.entries[0].service_name == "電子申請サービス"


def test_cp932_and_utf8_files_give_the_same_entries():
    a = read_registry(csv_bytes(SAMPLE, "cp932"), "lgwan_asp")
    b = read_registry(csv_bytes(SAMPLE, "utf-8-sig"), "lgwan_asp")
    assert a.entries == b.entries
    assert a.sha256 != b.sha256


def test_tab_separated_text_is_read():
    text = SAMPLE.replace(",", "\t")
    (entry,) = read_registry(csv_bytes(text), "lgwan_asp").entries
    assert entry.number == "A1"
