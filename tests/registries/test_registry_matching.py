"""Linking service records to registry entries across spelling variations."""

from __future__ import annotations

from datetime import date

import pytest

from cloudjudge.registries import (
    RegistryEntry,
    RegistryIndex,
    match,
    normalise_name,
    normalise_number,
    normalise_provider,
    read_registry,
)


@pytest.mark.parametrize(
    "variant",
    [
        "株式会社サンプル",
        "サンプル株式会社",
        "(株)サンプル",
        "（株）サンプル",
        "㈱サンプル",
        "サンプル㈱",
        "株式会社 サンプル",
        "株式会社　サンプル",
        "有限会社サンプル",
        "(有)サンプル",
        "合同会社サンプル",
        "一般社団法人サンプル",
        "サンプル",
        "ｻﾝﾌﾟﾙ",
        "サンプル Inc.",
        "サンプル Co., Ltd.",
        "サンプル Co.,Ltd.",
        "サンプル Corporation",
        "サンプル K.K.",
        "サンプル LLC",
    ],
)
def test_provider_variants_normalise_alike(variant):
    assert normalise_provider(variant) == normalise_provider("サンプル") == "サンプル"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ＡＢＣドライブ　ビジネス", "abc ドライブ ビジネス"),
        ("Blue Sky CRM", "ＢＬＵＥ－ＳＫＹ　ＣＲＭ"),
        ("ファイルサーバー", "ファイルサーバ"),
        ("e-Gov連携", "eGov連携"),
        ("ｺﾝﾋﾞﾆ交付ｻｰﾋﾞｽ", "コンビニ交付サービス"),
        ("施設予約クラウド～よやく～", "施設予約クラウド よやく"),
        ("データ・ストア（クラウド版）", "データストア クラウド版"),
        ("Ⅱ型サービス", "II型サービス"),
    ],
)
def test_name_variants_normalise_alike(a, b):
    assert normalise_name(a) == normalise_name(b)


def test_provider_designators_are_not_stripped_from_inside_words():
    assert normalise_provider("Incubate Cloud Inc.") == "incubatecloud"
    assert normalise_provider("Costco Japan Co., Ltd.") == "costcojapan"
    assert normalise_provider("株式会社") == ""


def test_numbers_normalise_width_dashes_and_spaces():
    assert normalise_number("Ｃ２１－０００８－２") == "C21-0008-2"
    assert normalise_number(" c21ー0008‐2 ") == "C21-0008-2"
    assert normalise_number(12345.0) == "12345"
    assert normalise_number(None) == ""


def entry(number, name, provider, kind="ismap", **kw):
    kw.setdefault("audit_period_end", date(2024, 3, 31) if kind != "lgwan_asp" else None)
    return RegistryEntry(kind, number, name, provider, **kw)


@pytest.fixture
def index(fixture_path):
    entries = [
        *read_registry(fixture_path("ismap_list.xlsx"), "ismap").entries,
        *read_registry(fixture_path("ismap_liu_list.xlsx"), "ismap_liu").entries,
        *read_registry(fixture_path("lgwan_asp_list_cp932.csv"), "lgwan_asp").entries,
    ]
    return RegistryIndex(entries)


@pytest.mark.parametrize(
    ("name", "provider", "kind", "number", "method"),
    [
        ("ABCドライブ ビジネス", "ABC(株)", "ismap", "C22-0202-1", "name_provider"),
        ("abcドライブビジネス", "株式会社ABC", None, "C22-0202-1", "name_provider"),
        ("みなとワークフロー", "株式会社みなとソフト", "ismap", "C22-0303-2", "name_provider"),
        ("みなとワークフロー", "みなとソフト㈱", "ismap", "C22-0303-2", "name_provider"),
        ("Blue Sky CRM", "Blue Sky Japan", "ismap", "C24-0505-1", "name_provider"),
        ("BLUE SKY CRM", "", "ismap", "C24-0505-1", "name"),
        ("さくらぎ クラウド基盤", "桜木システムズ株式会社", "ismap", "C21-0101-1", "name_provider"),
        ("さくらぎクラウド基盤", "別の会社", "ismap", "C21-0101-1", "name"),
        ("チャットボット クイック", "QUICK BOT", "ismap_liu", "L24-0003-1", "name_provider"),
        ("コンビニ交付サービス", "髙橋システム", "lgwan_asp", "A100002", "name_provider"),
        ("電子申請サービスみらい", "株式会社みらい行政", "lgwan_asp", "A100001", "name_provider"),
        ("施設予約クラウド よやく", "よやく合同会社", "lgwan_asp", "A100005", "name_provider"),
    ],
)
def test_match_fixture_entries_across_variations(index, name, provider, kind, number, method):
    found = index.find(name, provider, kind=kind)
    assert found is not None
    assert (found.entry.number, found.method) == (number, method)


def test_registration_number_is_preferred(index):
    found = index.find(
        "さくらぎクラウド基盤", "株式会社桜木システムズ", number="Ｃ２２－０２０２－１"
    )
    assert (found.entry.number, found.method) == ("C22-0202-1", "number")
    # An unknown number falls back to the names.
    found = index.find("さくらぎクラウド基盤", "", number="C99-9999-9")
    assert (found.entry.number, found.method) == ("C21-0101-1", "name")


def test_kind_restricts_the_lists_searched(index):
    assert index.lookup("コンビニ交付サービス", "", kind="ismap") is None
    assert index.lookup("", "", number="A100002", kind="ismap") is None
    assert index.lookup("", "", number="A100002", kind="lgwan_asp").number == "A100002"


def test_unknown_and_empty_names_match_nothing(index):
    assert index.lookup("存在しないサービス", "株式会社ABC") is None
    assert index.lookup("", "株式会社ABC") is None
    assert index.lookup("   ", "") is None


def test_a_name_shared_by_two_providers_needs_the_provider():
    entries = [
        entry("C21-0001-1", "共通クラウド", "株式会社あ"),
        entry("C21-0002-1", "共通クラウド", "株式会社い"),
    ]
    idx = RegistryIndex(entries)
    assert idx.lookup("共通クラウド", "") is None
    assert idx.lookup("共通クラウド", "株式会社う") is None
    assert idx.lookup("共通クラウド", "(株)い").number == "C21-0002-1"


def test_a_live_registration_wins_over_a_withdrawn_one():
    old = entry("C21-0001-1", "更新クラウド", "株式会社あ", withdrawn=True)
    new = entry("C21-0001-2", "更新クラウド", "株式会社あ", audit_period_end=date(2025, 3, 31))
    older = entry("C21-0001-3", "更新クラウド", "株式会社あ", audit_period_end=date(2023, 3, 31))
    idx = RegistryIndex([old, new, older])
    assert idx.lookup("更新クラウド", "株式会社あ").number == "C21-0001-2"
    assert idx.lookup("更新クラウド", "").number == "C21-0001-2"


def test_match_function_is_the_one_off_form():
    entries = [entry("C21-0001-1", "一回クラウド", "株式会社あ")]
    assert match("一回クラウド", "あ", entries).number == "C21-0001-1"
    assert match("ほかのクラウド", "あ", entries) is None
    assert match("", "", entries, number="c21-0001-1").number == "C21-0001-1"
