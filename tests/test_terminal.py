"""The Japanese terminal report: layout rules a reader notices."""

from __future__ import annotations

import pytest

from cloudjudge import judge
from cloudjudge.catalog import default_catalog
from cloudjudge.engine import parse_request
from cloudjudge.presentation.terminal import format_catalog_list, format_decision, format_item
from cloudjudge.presentation.wrapping import display_width, wrap

PROSE = (
    "ローカルブレイクアウト方式で外部とファイル送受信を行い内部に取り込む（利用方法 C）ため、"
    "表1 の C に○がある対策が必要です（3.1(1)(ウ)①）。ISMS（ISO/IEC27001、ISO/IEC27017、"
    "ISO/IEC27018）認証を受けたサービスのため、統括情報セキュリティ責任者の承認を得ること。"
)


def test_display_width_counts_japanese_as_two_columns():
    assert display_width("abc") == 3
    assert display_width("判定") == 4
    assert display_width("表1 の C") == 8


@pytest.mark.parametrize("width", [30, 41, 60, 100])
def test_wrap_fits_the_width_and_loses_nothing(width: int):
    lines = wrap(PROSE, width, "  理由: ", "        ")
    assert all(display_width(line) <= width for line in lines)
    assert lines[0].startswith("  理由: ")
    assert all(line.startswith(" " * 8) for line in lines[1:])
    text = "".join(line.removeprefix("  理由: ").strip() for line in lines)
    assert text.replace(" ", "") == PROSE.replace(" ", "")


@pytest.mark.parametrize("width", range(24, 101))
def test_wrap_keeps_japanese_line_breaking_rules(width: int):
    lines = wrap(PROSE, width)
    for line in lines[1:]:
        assert line[0] not in "、。）」", line
    for line in lines:
        assert line[-1] not in "（「", line
    words = {w for line in lines for w in line.replace("、", " ").split()}
    # ASCII words and 表1-style references are never cut in two.
    for whole in ("ISO/IEC27017", "表1", "3.1(1)(ウ)①"):
        assert any(whole in line for line in lines), (whole, words)


def test_wrap_keeps_paragraphs():
    assert wrap("一行目\n二行目", 40, "> ", "  ") == ["> 一行目", "  二行目"]


def _report(data: dict) -> str:
    request = parse_request(data)
    return format_decision(request, judge(request), default_catalog())


def test_measures_with_different_reasons_in_one_group_each_show_their_reason():
    text = _report(
        {
            "service": {"name": "住民向け予約", "listings": ["lgwan_asp"]},
            "data": {"confidentiality": "3B", "my_number": True, "critical_to_citizens": True},
            "connection": {"method": "lgwan_asp"},
        }
    )
    annex = text.split("【別紙1① 外部サービス共通】 13 件")[1].split("【")[0]
    # Three reasons (冗長化 No.1, common, 特定個人情報 No.12/13), each said once, each
    # followed by its own measures.
    assert annex.count("理由: ") == 3
    blocks = annex.split("理由: ")[1:]
    assert "S1-01" in blocks[0] and "冗長化" in blocks[0]
    assert "S1-02" in blocks[1] and "S1-11" in blocks[1] and "S1-12" not in blocks[1]
    assert "S1-12" in blocks[2] and "S1-13" in blocks[2]


def test_a_3a_request_says_there_is_no_way_out():
    """2 なお書: 3A has no remedy, and the report says so instead of listing measures."""
    text = _report(
        {
            "service": {"name": "x"},
            "data": {"confidentiality": "3A"},
            "connection": {"method": "government_cloud"},
        }
    )
    assert "判定          【禁止】" in text
    assert "承認          なし" in text
    assert "利用できるようにする変更（0 件" in text
    assert "禁止は解けません" in text.replace("\n  ", "")
    assert "必要な対策（0 件）\n  禁止のため、対策は求めません。" in text


def test_a_prohibited_report_shows_its_remedies_and_asks_for_nothing():
    """Issue #9: the way out of a prohibition, smallest first, with what changes; no
    measures, no approval, no PIA for a use that is forbidden."""
    text = _report(
        {
            "service": {"name": "給付金", "listings": ["ismap"]},
            "data": {"confidentiality": "3B", "my_number": True},
            "connection": {"method": "local_breakout", "breakout_usage": "no_file_import"},
        }
    )
    assert "PIA           対象外（禁止のため）" in text
    remedies = text.split("利用できるようにする変更（")[1].split("必要な対策")[0]
    assert "1. 接続方法を「LGWAN-ASP 利用方式」にする（別紙1①）→ 利用可" in remedies
    assert "接続方法: ローカルブレイクアウト方式 → LGWAN-ASP 利用方式" in remedies
    assert "【" not in text.split("必要な対策")[1]


#: Words a Japanese reader must never see cut at a line end.
WORDS = (
    "インターネット",
    "（別紙1①）",
    "統括情報セキュリティ責任者",
    "3.1(1)(ウ)①",
    "（別紙1① No.12）",
)
LONG = (
    "インターネット環境にある端末からクラウドサービスを使用して、重要情報資産を取り扱うことは、"
    "原則禁止とする（別紙1①）。統括情報セキュリティ責任者の承認を得て、インターネット環境にある"
    "端末へダウンロードする場合は（別紙1① No.12）の要件に従い、表1 の対策（3.1(1)(ウ)①）を講じる。"
)


@pytest.mark.parametrize("width", range(36, 101))
def test_wrap_never_splits_a_word(width: int):
    """Issue #9: breaks fall between phrases (BudouX), never inside a word or a reference:
    no 「イン／ターネット」, no 「（別／紙1①）」. (From 36 columns on, the longest phrase,
    「統括情報セキュリティ責任者の」, fits a line; a longer phrase is cut, as it must be.)"""
    lines = wrap(LONG, width, "    ")
    assert all(display_width(line) <= width for line in lines)
    assert "".join(line.strip() for line in lines).replace(" ", "") == LONG.replace(" ", "")
    for word in WORDS:
        whole = sum(line.count(word) for line in lines)
        assert whole == LONG.count(word), (word, lines)


def test_catalog_list_and_item_layout():
    catalog = default_catalog()
    listing = format_catalog_list(catalog, catalog.items_with_prefix("EXIT"))
    assert listing.splitlines()[1:] == [
        "ID      条項  題目",
        "EXIT-1  3.2   情報資産の移行方法",
        "EXIT-2  3.2   再利用が不可能な方法での削除及びその証明書の提出",
        "EXIT-3  3.2   交換または処分（廃棄）する場合の取り扱い",
    ]
    shown = format_item(catalog, catalog.item("T1-01"))
    assert "A －  B ○  C －" in shown
    assert shown.endswith("本文:\n" + catalog.item("T1-01").text + "\n")
