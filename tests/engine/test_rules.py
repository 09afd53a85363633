"""Each rule of 堺市「クラウドサービス利用判断基準」, one or more cases per clause.

Every test's docstring cites the clause it checks. Expected IDs are written out
from the document itself (表1's ○ marks, 別紙1's numbering), not read back from
the catalog, so a wrong rule or a wrong transcription both fail here. Every
decision judged in this module is also checked for its general shape (verdict
rule, Japanese reasons citing a clause) by ``judged``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from cloudjudge.catalog import Catalog
from cloudjudge.engine import Decision, RequestError
from cloudjudge.engine import judge as judge_api

# ------------------------------------------------------------- expected IDs (from the document)

SU = ["SU-1", "SU-2", "SU-3"]
#: 表1, rows top to bottom: A = 認証・ウイルス定義体の取得のみ, B = ファイルを庁内に取り込まない,
#: C = 外部とファイル送受信を行い内部に取り込む.
T1_ALL = [f"T1-{n:02}" for n in range(1, 13)]
T1_A = ["T1-02", "T1-03", "T1-04", "T1-05", "T1-08", "T1-11", "T1-12"]
T1_B = T1_ALL
T1_C = [i for i in T1_ALL if i != "T1-01"]
SEL = [
    "SEL-A1",
    "SEL-A2",
    "SEL-A3",
    "SEL-B1",
    "SEL-C1",
    "SEL-C2",
    "SEL-D1",
    "SEL-E1",
    "SEL-E2",
    "SEL-E3",
    *(f"SEL-F{n}" for n in range(1, 8)),
    "SEL-G1",
    "SEL-G2",
]
EXIT = ["EXIT-1", "EXIT-2", "EXIT-3"]
PROC = ["PROC-1", "PROC-2"]
#: 別紙1① No.2–11: every usable request. No.1 only when critical, No.12/13 only for 特定個人情報.
S1_ALWAYS = [f"S1-{n:02}" for n in range(2, 12)]
S2 = [f"S2-{n:02}" for n in range(1, 23)]
#: What an important-data request always needs (3.1(2), 3.2, 3.3 and 別紙1①), in document order.
IMPORTANT_BASE = [*SEL, *EXIT, *PROC, *S1_ALWAYS]

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

#: A connection that implies no listing (unlike LGWAN-ASP and ガバメントクラウド 方式,
#: ruling 1), for the cases where the service's own listing decides.
BREAKOUT_A: dict[str, Any] = {"method": "local_breakout", "breakout_usage": "auth_only"}


# --------------------------------------------------------------------------- helpers


def ids(decision: Decision) -> list[str]:
    return [r["id"] for r in decision["required"]]


def ids_with(decision: Decision, prefix: str) -> list[str]:
    return [i for i in ids(decision) if i.startswith(prefix)]


def has_finding(decision: Decision, clause: str, effect: str) -> bool:
    return any(f["clause"] == clause and f["effect"] == effect for f in decision["findings"])


def effects(decision: Decision) -> set[str]:
    return {f["effect"] for f in decision["findings"]}


def check_shape(decision: Decision, catalog: Catalog) -> None:
    """What every decision must satisfy, whatever the request."""
    prohibits = any(f["effect"] == "prohibit" for f in decision["findings"])
    if prohibits:
        assert decision["verdict"] == "prohibited"
        # Ruling 4: a forbidden use carries its prohibitions and nothing it would need.
        assert decision["approvals"] == decision["required"] == []
        assert {f["effect"] for f in decision["findings"]} == {"prohibit"}
    elif decision["approvals"]:
        assert decision["verdict"] == "approval_required"
    else:
        assert decision["verdict"] == "permitted"
    rules = {rule.id: rule for rule in catalog.rules}
    for finding in decision["findings"]:
        assert rules[finding["rule"]].clause == finding["clause"]
        assert catalog.has_clause(finding["clause"])
        assert finding["message"].strip()
        assert _JAPANESE.search(finding["message"])
        assert finding["clause"] in finding["message"], finding
    require_clauses = {f["clause"] for f in decision["findings"] if f["effect"] == "require"}
    for item in decision["required"]:
        assert item["reason"].strip()
        assert _JAPANESE.search(item["reason"])
        assert any(c in item["reason"] for c in require_clauses), item
        assert item["clause"] == catalog.item(item["id"]).clause
        assert item["title"] == catalog.item(item["id"]).title


@pytest.fixture(scope="module")
def judged(decide: Callable[..., Decision], catalog: Catalog) -> Callable[..., Decision]:
    def run(**overrides: Any) -> Decision:
        decision = decide(**overrides)
        check_shape(decision, catalog)
        return decision

    return run


# ---------------------------------------------------------------------------- 2: 3A

METHODS = ["local_breakout", "internet_pc", "lgwan_asp", "government_cloud"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("listings", [[], ["lgwan_asp", "ismap", "ismap_liu"]])
def test_3a_is_prohibited_whatever_the_service(judged, method, listings):
    """2: 自治体機密性 3A の情報は外部サービスを利用して取り扱うことを禁止する。"""
    d = judged(
        confidentiality="3A",
        method=method,
        listings=listings,
        isms_certifications=["iso27001"],
        breakout_usage="auth_only",
        internet_only_function=True,
    )
    assert d["verdict"] == "prohibited"
    assert has_finding(d, "2", "prohibit")
    assert d["approvals"] == []
    assert d["pia_required"] is False
    # Nothing is required of a service that may not be used at all.
    assert d["required"] == []


def test_3a_is_prohibited_even_with_my_number_on_a_closed_line(judged):
    """2: 3A is never handled by an external service, 特定個人情報 or not; no PIA is asked."""
    d = judged(confidentiality="3A", my_number=True, method="lgwan_asp", listings=["lgwan_asp"])
    assert d["verdict"] == "prohibited"
    assert [f["clause"] for f in d["findings"] if f["effect"] == "prohibit"] == ["2"]
    assert d["pia_required"] is False
    assert d["required"] == []


def test_3a_shows_only_reasons_for_the_prohibition(judged):
    """2: 3A の判定は禁止の理由だけを示す（docs/interpretation.md, 2）。"""
    d = judged(confidentiality="3A", method="lgwan_asp", listings=[], my_number=True)
    assert d["verdict"] == "prohibited"
    assert effects(d) == {"prohibit"}


# ---------------------------------------------------------------- 2(1), 2(2), 2(3)


@pytest.mark.parametrize("level", ["3B", "3C"])
def test_important_data_must_meet_3_1(judged, level):
    """2(1): 重要情報資産（3B・3C）は「3.1 サービスの選定条件」を満たすサービスで取り扱う。"""
    d = judged(confidentiality=level)
    assert has_finding(d, "2(1)", "info")
    assert not has_finding(d, "2(2)", "info")
    assert d["verdict"] == "permitted"
    assert ids(d) == IMPORTANT_BASE


@pytest.mark.parametrize("level", ["2", "1", 2, 1])
def test_non_important_data_needs_no_listing(judged, level):
    """2(2): 重要情報資産を取り扱わない場合、3.1(1)(イ) の掲載・認証は求められない。"""
    d = judged(confidentiality=level, listings=[], isms_certifications=[])
    assert d["verdict"] == "permitted"
    assert d["approvals"] == []
    assert d["pia_required"] is False
    assert has_finding(d, "2(2)", "info")
    assert not has_finding(d, "2(1)", "info")
    assert "prohibit" not in effects(d)
    assert not any(f["clause"] == "3.1(1)(イ)" for f in d["findings"])
    # No selection, exit or procurement items; only 別紙1① common measures.
    assert ids(d) == S1_ALWAYS


@pytest.mark.parametrize("level", ["2", "1"])
def test_non_important_download_to_internet_terminal_needs_annex_2(judged, level):
    """2(2): ダウンロードせざるを得ない場合は別紙1②の要件に従う。"""
    d = judged(confidentiality=level, download_to_internet_terminal=True)
    assert d["verdict"] == "permitted"
    assert has_finding(d, "2(2)", "require")
    assert ids_with(d, "S2-") == S2
    assert ids(d) == [*S1_ALWAYS, *S2]
    s2_reasons = {r["reason"] for r in d["required"] if r["id"].startswith("S2-")}
    assert all("2(2)" in reason for reason in s2_reasons)


def test_non_important_download_to_internet_virtual_pc_needs_no_annex_2(judged):
    """2(2) and 別紙1②: ②の端末対策はインターネット仮想パソコンを使用する場合を除く。"""
    d = judged(confidentiality="2", download_to_internet_terminal=True, internet_virtual_pc=True)
    assert d["verdict"] == "permitted"
    assert ids_with(d, "S2-") == []
    assert not has_finding(d, "2(2)", "require")


def test_non_important_without_download_needs_no_annex_2(judged):
    """2(2): without a download to an internet terminal, 別紙1② is not required."""
    d = judged(confidentiality="1", download_to_internet_terminal=False)
    assert ids_with(d, "S2-") == []


def test_risks_are_noted_for_important_data(judged):
    """2(3): 外部サービス特有のリスク（ア）〜（オ）を適切な事業者選定により低減する。"""
    d = judged(confidentiality="3C")
    assert has_finding(d, "2(3)", "info")
    message = next(f["message"] for f in d["findings"] if f["clause"] == "2(3)")
    assert "(ア)" in message and "(オ)" in message


def test_risks_are_noted_for_non_important_data_too(judged):
    """2(3): 「外部サービスの利用に当たっては」— the risk note applies to every use of a service."""
    d = judged(confidentiality="2")
    assert has_finding(d, "2(3)", "info")


# ------------------------------------------------------------------ 3.1(1)(イ)


@pytest.mark.parametrize("listing", ["lgwan_asp", "ismap", "ismap_liu"])
@pytest.mark.parametrize("level", ["3B", "3C"])
def test_listed_service_is_permitted_for_important_data(judged, listing, level):
    """3.1(1)(イ): LGWAN-ASP、ISMAP 及び ISMAP-LIU クラウドサービスリスト掲載サービスは
    使用できる。"""
    d = judged(confidentiality=level, listings=[listing], isms_certifications=[])
    assert d["verdict"] == "permitted"
    assert d["approvals"] == []
    assert d["pia_required"] is False
    assert has_finding(d, "3.1(1)(イ)", "info")
    assert not has_finding(d, "3.1(1)(イ)", "prohibit")
    assert not has_finding(d, "3.1(1)(イ)", "approve")
    assert ids(d) == IMPORTANT_BASE


def test_listed_and_isms_certified_needs_no_approval(judged):
    """3.1(1)(イ): a listed service needs no ISMS approval even if it is also certified."""
    d = judged(listings=["ismap"], isms_certifications=["iso27001", "iso27017", "iso27018"])
    assert d["verdict"] == "permitted"
    assert d["approvals"] == []


@pytest.mark.parametrize(
    "certs", [["iso27001"], ["iso27017"], ["iso27018"], ["iso27001", "iso27017"]]
)
def test_isms_only_needs_ciso_approval(judged, certs):
    """3.1(1)(イ): ISMS 認証のみのサービスは統括情報セキュリティ責任者に示し承認を得る。"""
    d = judged(listings=[], isms_certifications=certs, **BREAKOUT_A)
    assert d["verdict"] == "approval_required"
    assert d["approvals"] == ["ciso"]
    assert has_finding(d, "3.1(1)(イ)", "approve")
    assert "prohibit" not in effects(d)
    assert d["pia_required"] is False
    assert ids(d) == [*T1_A, *IMPORTANT_BASE]


def test_unlisted_and_uncertified_is_prohibited(judged):
    """3.1(1)(イ): 使用する外部サービスは掲載・認証のいずれか。どれにも該当しなければ
    使用できない。"""
    d = judged(listings=[], isms_certifications=[], **BREAKOUT_A)
    assert d["verdict"] == "prohibited"
    assert has_finding(d, "3.1(1)(イ)", "prohibit")
    assert d["approvals"] == []
    assert d["pia_required"] is False
    assert d["required"] == []


@pytest.mark.parametrize(
    ("method", "rule", "cited"),
    [
        ("lgwan_asp", "R-3.1-LISTED-BY-LGWAN-ASP", "3.1(1)(ウ)③"),
        ("government_cloud", "R-3.1-LISTED-BY-GOVERNMENT-CLOUD", "3.1(1)(ウ)④"),
    ],
)
def test_the_connection_method_implies_the_listing(judged, method, rule, cited):
    """3.1(1)(イ) with (ウ)③④ (ruling 1): LGWAN-ASP 利用方式 reaches only LGWAN-ASP services,
    and ガバメントクラウド services are chosen from ISMAP-listed ones, so the method meets (イ)
    without a declared listing, and the finding says the listing was taken from the method."""
    d = judged(listings=[], isms_certifications=[], method=method)
    assert d["verdict"] == "permitted"
    assert d["approvals"] == []
    notes = [f for f in d["findings"] if f["clause"] == "3.1(1)(イ)"]
    assert [(f["rule"], f["effect"]) for f in notes] == [(rule, "info")]
    assert cited in notes[0]["message"]
    assert ids(d) == IMPORTANT_BASE


def test_a_declared_listing_needs_no_note_from_the_method(judged):
    """3.1(1)(イ): with a declared listing, nothing is taken from the method."""
    d = judged(listings=["ismap"], method="lgwan_asp")
    assert [f["rule"] for f in d["findings"] if f["clause"] == "3.1(1)(イ)"] == ["R-3.1-LISTED"]


@pytest.mark.parametrize("usage", ["auth_only", "no_file_import"])
def test_security_update_feed_without_documents_is_permitted(judged, usage):
    """3.1(1)(イ) ただし書: 未登録のセキュリティ関連サービスも SU-1〜SU-3 を前提に利用を認める。"""
    d = judged(
        confidentiality="3C",
        listings=[],
        isms_certifications=[],
        security_update_service=True,
        administrative_documents=False,
        method="local_breakout",
        breakout_usage=usage,
    )
    assert d["verdict"] == "permitted"
    assert d["approvals"] == []
    assert has_finding(d, "3.1(1)(イ)", "require")
    assert not has_finding(d, "3.1(1)(イ)", "prohibit")
    assert ids_with(d, "SU-") == SU
    su_reasons = {r["reason"] for r in d["required"] if r["id"].startswith("SU-")}
    assert all("3.1(1)(イ)" in reason for reason in su_reasons)


def test_security_update_feed_with_documents_is_prohibited(judged):
    """3.1(1)(イ) ただし書 SU-1: 行政文書や行政文書に相当する情報を扱わないことが前提。"""
    d = judged(
        listings=[],
        isms_certifications=[],
        security_update_service=True,
        administrative_documents=True,
        **BREAKOUT_A,
    )
    assert d["verdict"] == "prohibited"
    assert has_finding(d, "3.1(1)(イ)", "prohibit")
    assert ids_with(d, "SU-") == []


def test_security_update_feed_with_documents_and_isms_needs_approval(judged):
    """3.1(1)(イ): the exception fails (SU-1), but ISMS certification still allows CISO approval."""
    d = judged(
        listings=[],
        isms_certifications=["iso27001"],
        security_update_service=True,
        administrative_documents=True,
        **BREAKOUT_A,
    )
    assert d["verdict"] == "approval_required"
    assert d["approvals"] == ["ciso"]
    assert has_finding(d, "3.1(1)(イ)", "approve")
    assert ids_with(d, "SU-") == []


def test_security_update_feed_exception_needs_no_isms_approval(judged):
    """3.1(1)(イ) ただし書: the exception applies to unregistered services as they are; an ISMS
    certificate does not add an approval."""
    d = judged(
        listings=[],
        isms_certifications=["iso27001"],
        security_update_service=True,
        administrative_documents=False,
        **BREAKOUT_A,
    )
    assert d["verdict"] == "permitted"
    assert d["approvals"] == []
    assert ids_with(d, "SU-") == SU


def test_listed_security_update_feed_needs_no_exception(judged):
    """3.1(1)(イ): a listed service is usable without the ただし書 conditions."""
    d = judged(listings=["ismap"], security_update_service=True, administrative_documents=False)
    assert d["verdict"] == "permitted"
    assert ids_with(d, "SU-") == []


def test_security_update_feed_with_non_important_data_needs_no_exception(judged):
    """2(2) / 3.1(1)(イ): the listing rules, and so their exception, are for important data."""
    d = judged(
        confidentiality="2",
        listings=[],
        security_update_service=True,
        administrative_documents=False,
    )
    assert d["verdict"] == "permitted"
    assert ids_with(d, "SU-") == []


# ------------------------------------------------------------------ 3.1(1)(ア) PIA


@pytest.mark.parametrize(
    ("method", "listings", "network"),
    [
        ("lgwan_asp", ["lgwan_asp"], None),
        ("lgwan_asp", ["lgwan_asp"], "lgwan"),
        ("government_cloud", ["ismap"], None),
        ("government_cloud", ["ismap"], "government_cloud_line"),
        ("government_cloud", ["ismap"], "lgwan"),
    ],
)
def test_my_number_on_a_closed_line_is_usable_with_pia(judged, method, listings, network):
    """3.1(1)(ア) and 別紙1① No.12: 特定個人情報は LGWAN 回線又はガバメントクラウド専用線で
    扱え、PIA（特定個人情報保護評価）を実施する。"""
    d = judged(
        my_number=True,
        method=method,
        listings=listings,
        network=network if network else ...,
    )
    assert d["verdict"] == "permitted"
    assert d["approvals"] == []
    assert d["pia_required"] is True
    assert has_finding(d, "3.1(1)(ア)", "require")
    assert "prohibit" not in effects(d)
    assert ids(d) == [*IMPORTANT_BASE, "S1-12", "S1-13"]


@pytest.mark.parametrize("level", ["3B", "2", "1"])
def test_no_pia_without_my_number(judged, level):
    """3.1(1)(ア): PIA is for 特定個人情報 only."""
    d = judged(confidentiality=level, my_number=False)
    assert d["pia_required"] is False
    assert not has_finding(d, "3.1(1)(ア)", "require")


def test_my_number_with_non_important_level_still_needs_pia(judged):
    """3.1(1)(ア): 特定個人情報 needs PIA whatever level the applicant states."""
    d = judged(confidentiality="2", my_number=True, method="lgwan_asp", listings=["lgwan_asp"])
    assert d["pia_required"] is True
    assert ids(d) == [*S1_ALWAYS, "S1-12", "S1-13"]


# ------------------------------------------------------------- 3.1(1)(ウ)① and 表1


def test_table_1_columns_in_the_catalog_match_the_document(catalog):
    """表1: the ○ marks of columns A, B and C, as printed in the document."""
    rows = catalog.items_with_prefix("T1-")
    assert [i.id for i in rows] == T1_ALL
    assert [i.id for i in rows if "A" in i.columns] == T1_A
    assert [i.id for i in rows if "B" in i.columns] == T1_B
    assert [i.id for i in rows if "C" in i.columns] == T1_C


@pytest.mark.parametrize(
    ("usage", "column", "expected"),
    [("auth_only", "A", T1_A), ("no_file_import", "B", T1_B), ("file_import", "C", T1_C)],
)
@pytest.mark.parametrize("level", ["3B", "3C", "2", "1"])
def test_local_breakout_requires_table_1_column(judged, catalog, usage, column, expected, level):
    """3.1(1)(ウ)①: ローカルブレイクアウト方式は利用方法に応じて表1 の A/B/C の○の対策を
    実施する。"""
    d = judged(confidentiality=level, method="local_breakout", breakout_usage=usage)
    from_catalog = [i.id for i in catalog.items_with_prefix("T1-") if column in i.columns]
    assert ids_with(d, "T1-") == expected == from_catalog
    assert has_finding(d, "3.1(1)(ウ)①", "require")
    t1_reasons = {r["reason"] for r in d["required"] if r["id"].startswith("T1-")}
    assert len(t1_reasons) == 1
    assert all("表1" in r and column in r for r in t1_reasons)
    assert d["verdict"] == "permitted"


@pytest.mark.parametrize("method", ["internet_pc", "lgwan_asp", "government_cloud"])
def test_table_1_only_for_local_breakout(judged, method):
    """3.1(1)(ウ)①: 表1 applies to the local breakout method only, even if a usage is stated."""
    d = judged(method=method, breakout_usage="file_import", listings=["lgwan_asp", "ismap"])
    assert ids_with(d, "T1-") == []
    assert not has_finding(d, "3.1(1)(ウ)①", "require")


# ------------------------------------------------------------- 3.1(1)(ウ)② internet PC


@pytest.mark.parametrize("level", ["3B", "3C"])
def test_internet_pc_with_important_data_without_ground_is_prohibited(judged, level):
    """3.1(1)(ウ)②: インターネット環境にある端末から重要情報資産を取り扱うことは原則禁止。"""
    d = judged(confidentiality=level, method="internet_pc")
    assert d["verdict"] == "prohibited"
    assert has_finding(d, "3.1(1)(ウ)②", "prohibit")
    assert d["approvals"] == []


@pytest.mark.parametrize("ground", ["internet_only_function", "limited_external_sharing"])
def test_internet_pc_with_ground_needs_ciso_approval_and_annex_2(judged, ground):
    """3.1(1)(ウ)② ただし書: 例外に該当すれば別紙1の安全管理措置を講じ、統括情報セキュリティ
    責任者の承認を得る。"""
    d = judged(method="internet_pc", **{ground: True})
    assert d["verdict"] == "approval_required"
    assert d["approvals"] == ["ciso"]
    assert has_finding(d, "3.1(1)(ウ)②", "approve")
    assert not has_finding(d, "3.1(1)(ウ)②", "prohibit")
    assert has_finding(d, "別紙1②", "require")
    assert ids(d) == [*IMPORTANT_BASE, *S2]


def test_internet_pc_with_both_grounds_asks_ciso_once(judged):
    """3.1(1)(ウ)②: either ground suffices; the approval is listed once."""
    d = judged(method="internet_pc", internet_only_function=True, limited_external_sharing=True)
    assert d["approvals"] == ["ciso"]


def test_internet_pc_ground_and_isms_ask_ciso_once(judged):
    """3.1(1)(イ) and (ウ)②: two approvals by the same person are one entry in ``approvals``."""
    d = judged(
        method="internet_pc",
        listings=[],
        isms_certifications=["iso27001"],
        internet_only_function=True,
    )
    assert d["verdict"] == "approval_required"
    assert d["approvals"] == ["ciso"]
    assert has_finding(d, "3.1(1)(イ)", "approve")
    assert has_finding(d, "3.1(1)(ウ)②", "approve")


def test_internet_pc_with_ground_on_virtual_pc_needs_approval_but_no_annex_2(judged):
    """3.1(1)(ウ)② and 別紙1②: 承認は必要だが、インターネット仮想パソコンを使用する場合は②の
    端末対策を除く。"""
    d = judged(method="internet_pc", internet_virtual_pc=True, limited_external_sharing=True)
    assert d["verdict"] == "approval_required"
    assert d["approvals"] == ["ciso"]
    assert ids_with(d, "S2-") == []
    assert has_finding(d, "別紙1②", "info")
    assert not has_finding(d, "別紙1②", "require")
    assert ids(d) == IMPORTANT_BASE


def test_internet_pc_on_virtual_pc_without_ground_is_still_prohibited(judged):
    """3.1(1)(ウ)②: a virtual PC only waives 別紙1②'s terminal measures, not the prohibition."""
    d = judged(method="internet_pc", internet_virtual_pc=True)
    assert d["verdict"] == "prohibited"
    assert has_finding(d, "3.1(1)(ウ)②", "prohibit")


def test_internet_pc_council_approved_legacy_is_not_prohibited(judged):
    """3.1(1)(ウ)② なお書: 個人情報保護審議会の承認を得て導入済みのものは引き続き利用し、
    リプレイス時に実施方法を見直す。"""
    d = judged(method="internet_pc", council_approved_legacy=True)
    assert d["verdict"] == "permitted"
    assert d["approvals"] == []
    assert not has_finding(d, "3.1(1)(ウ)②", "prohibit")
    assert has_finding(d, "3.1(1)(ウ)②", "info")
    message = next(
        f["message"]
        for f in d["findings"]
        if f["clause"] == "3.1(1)(ウ)②" and f["effect"] == "info"
    )
    assert "リプレイス" in message
    assert ids_with(d, "S2-") == S2


@pytest.mark.parametrize("level", ["2", "1"])
def test_internet_pc_with_non_important_data_is_permitted_with_annex_2(judged, level):
    """3.1(1)(ウ)② prohibits important data only; 別紙1: インターネット環境からサービスを使用する
    場合は②インターネットパソコン方式の対策も講じる。"""
    d = judged(confidentiality=level, method="internet_pc", listings=[])
    assert d["verdict"] == "permitted"
    assert d["approvals"] == []
    assert not any(f["clause"] == "3.1(1)(ウ)②" for f in d["findings"])
    assert has_finding(d, "別紙1②", "require")
    assert ids(d) == [*S1_ALWAYS, *S2]


def test_internet_pc_with_3a_is_prohibited_only_by_2(judged):
    """2: 3A is prohibited by clause 2; the internet PC rules are for 3B/3C."""
    d = judged(confidentiality="3A", method="internet_pc")
    assert [f["clause"] for f in d["findings"] if f["effect"] == "prohibit"] == ["2"]


# ----------------------------------------------------------------- 3.1(1)(ウ)③


def test_lgwan_asp_method_with_non_important_data_needs_no_listing_note(judged):
    """3.1(1)(ウ)③ and 2(2): the listing matters for 重要情報資産 only, so nothing is noted."""
    d = judged(confidentiality="2", method="lgwan_asp", listings=[])
    assert not any(f["clause"] in ("3.1(1)(イ)", "3.1(1)(ウ)③") for f in d["findings"])
    assert d["verdict"] == "permitted"


# --------------------------------------------------------------- 3.1(2), 3.2, 3.3


@pytest.mark.parametrize("level", ["3B", "3C"])
def test_important_data_requires_selection_exit_and_procurement(judged, level):
    """3.1(2)(ア)〜(キ), 3.2 ①〜③, 3.3 (1)(2): 重要情報資産を取り扱う外部サービスの
    選定・終了・調達。"""
    d = judged(confidentiality=level)
    assert ids_with(d, "SEL-") == SEL
    assert ids_with(d, "EXIT-") == EXIT
    assert ids_with(d, "PROC-") == PROC
    for clause in ("3.1", "3.2", "3.3"):
        assert has_finding(d, clause, "require")


@pytest.mark.parametrize("level", ["2", "1"])
def test_non_important_data_requires_no_selection_exit_or_procurement(judged, level):
    """3.1: the selection conditions are for 重要情報資産 (3.1 本文, 2(1))."""
    d = judged(confidentiality=level)
    assert ids_with(d, "SEL-") == ids_with(d, "EXIT-") == ids_with(d, "PROC-") == []


# --------------------------------------------------------------------- 別紙1①


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("level", ["3B", "3C", "2", "1"])
def test_annex_1_common_measures_for_every_usable_request(judged, method, level):
    """別紙1①: 外部サービス共通の対策 No.2〜11 は常に、No.1 と No.12・13 は条件付き。"""
    d = judged(
        confidentiality=level,
        method=method,
        breakout_usage="no_file_import",
        listings=["lgwan_asp"],
        internet_only_function=True,
    )
    assert ids_with(d, "S1-") == S1_ALWAYS
    assert has_finding(d, "別紙1①", "require")


@pytest.mark.parametrize("level", ["3B", "2"])
def test_redundancy_only_when_critical_to_citizens(judged, level):
    """別紙1① No.1: 停止により市民サービスに多大な影響を与える場合は冗長化対策を講じる。"""
    critical = judged(confidentiality=level, critical_to_citizens=True)
    assert ids_with(critical, "S1-") == ["S1-01", *S1_ALWAYS]
    reason = next(r["reason"] for r in critical["required"] if r["id"] == "S1-01")
    assert "No.1" in reason
    assert "S1-01" not in ids(judged(confidentiality=level, critical_to_citizens=False))


@pytest.mark.parametrize(
    ("method", "network", "usage"),
    [
        ("government_cloud", "internet", None),
        ("lgwan_asp", "internet", None),
        ("local_breakout", None, "auth_only"),
        ("local_breakout", "lgwan", "no_file_import"),
        ("internet_pc", None, None),
        ("internet_pc", "government_cloud_line", None),
    ],
)
def test_my_number_over_an_internet_line_is_prohibited(judged, method, network, usage):
    """別紙1① No.12: 特定個人番号を含むデータは LGWAN 回線又はガバメントクラウド専用線で
    接続する。"""
    d = judged(
        my_number=True,
        method=method,
        network=network if network else ...,
        breakout_usage=usage if usage else ...,
        listings=["lgwan_asp", "ismap"],
        internet_only_function=True,
    )
    assert d["verdict"] == "prohibited"
    assert has_finding(d, "別紙1①", "prohibit")
    prohibit = next(f for f in d["findings"] if f["effect"] == "prohibit")
    assert "No.12" in prohibit["message"]
    # Ruling 4: nothing is required of a use that is forbidden, PIA included.
    assert d["pia_required"] is False
    assert d["required"] == []
    # The way out changes the line (別紙1① No.12) and never the data.
    assert d["remedies"]
    assert all("別紙1①" in r["clause"] for r in d["remedies"])


@pytest.mark.parametrize("level", ["3B", "2"])
def test_my_number_download_to_internet_terminal_is_prohibited(judged, level):
    """別紙1① No.13: 特定個人番号を含むデータはインターネット環境にある端末等への
    ダウンロードを制限する。"""
    d = judged(
        confidentiality=level,
        my_number=True,
        method="lgwan_asp",
        listings=["lgwan_asp"],
        download_to_internet_terminal=True,
    )
    assert d["verdict"] == "prohibited"
    prohibitions = [f for f in d["findings"] if f["effect"] == "prohibit"]
    # Every prohibition is said: No.13, and for 3B also 3.1(1)(ウ)② (ruling 2).
    expected = ["R-ANNEX1-MY-NUMBER-DOWNLOAD"]
    if level == "3B":
        expected.insert(0, "R-3.1-DOWNLOAD-PROHIBITED")
    assert [f["rule"] for f in prohibitions] == expected
    assert "No.13" in prohibitions[-1]["message"]


def test_s1_12_and_13_only_with_my_number(judged):
    """別紙1① No.12・13: only for data containing 特定個人番号."""
    d = judged(my_number=False, method="lgwan_asp", listings=["lgwan_asp"])
    assert not {"S1-12", "S1-13"} & set(ids(d))


DOWNLOAD_METHODS = ["government_cloud", "local_breakout", "lgwan_asp"]


@pytest.mark.parametrize("method", DOWNLOAD_METHODS)
@pytest.mark.parametrize("level", ["3B", "3C"])
def test_important_data_downloaded_to_internet_terminal_is_prohibited(judged, method, level):
    """3.1(1)(ウ)② (ruling 2): 重要情報資産をインターネット環境にある端末へダウンロードすれば
    インターネット環境にある端末で取り扱うことになり、原則禁止。別紙1① No.11 の
    「やむを得ずダウンロードする際は②の端末要件」は原則禁止を解かない。"""
    d = judged(
        confidentiality=level,
        method=method,
        breakout_usage="file_import",
        listings=["lgwan_asp"],
        download_to_internet_terminal=True,
    )
    assert d["verdict"] == "prohibited"
    assert [f["rule"] for f in d["findings"]] == ["R-3.1-DOWNLOAD-PROHIBITED"]
    assert "No.11" in d["findings"][0]["message"]
    remedies = {r["message"] for r in d["remedies"]}
    assert any("ダウンロードしない" in m and m.endswith("利用可") for m in remedies)
    assert any("インターネットクラウドのみ" in m and m.endswith("承認が必要") for m in remedies)


@pytest.mark.parametrize("method", DOWNLOAD_METHODS)
@pytest.mark.parametrize("ground", ["internet_only_function", "limited_external_sharing"])
def test_important_data_downloaded_with_a_ground_needs_approval_and_annex_2(judged, method, ground):
    """3.1(1)(ウ)② ただし書 (ruling 2): with a ground, CISO approval and 別紙1②, as for an
    internet PC."""
    d = judged(
        method=method,
        breakout_usage="file_import",
        listings=["lgwan_asp"],
        download_to_internet_terminal=True,
        **{ground: True},
    )
    assert d["verdict"] == "approval_required"
    assert d["approvals"] == ["ciso"]
    assert has_finding(d, "3.1(1)(ウ)②", "approve")
    assert ids_with(d, "S2-") == S2
    s2_reasons = {r["reason"] for r in d["required"] if r["id"].startswith("S2-")}
    assert s2_reasons and all("No.11" in r for r in s2_reasons)


def test_important_data_downloaded_under_council_approval_is_not_prohibited(judged):
    """3.1(1)(ウ)② なお書 (ruling 2): as for an internet PC, an earlier council approval
    lets the use go on until the replacement, with 別紙1②."""
    d = judged(download_to_internet_terminal=True, council_approved_legacy=True)
    assert d["verdict"] == "permitted"
    assert has_finding(d, "3.1(1)(ウ)②", "info")
    assert ids_with(d, "S2-") == S2


@pytest.mark.parametrize("level", ["2", "1"])
def test_contractor_download_adds_its_measure_on_top_of_annex_2(judged, level):
    """別紙1① No.11 なお書 (ruling 3): 指定管理者や委託事業者がダウンロードする場合は、②の
    端末要件を満たした上で、持ち出すデータの内容を限定し、事前に情報システム管理者の承認を得る。"""
    d = judged(
        confidentiality=level, download_to_internet_terminal=True, download_by_contractor=True
    )
    assert d["verdict"] == "permitted"
    assert ids(d) == [*S1_ALWAYS, "S1-11N", *S2]
    reason = next(r["reason"] for r in d["required"] if r["id"] == "S1-11N")
    assert "なお書" in reason and "情報システム管理者" in reason
    without = judged(confidentiality=level, download_to_internet_terminal=True)
    assert "S1-11N" not in ids(without)


def test_contractor_download_of_important_data_with_a_ground(judged):
    """別紙1① No.11 なお書 with 3.1(1)(ウ)② (rulings 2 and 3)."""
    d = judged(
        download_to_internet_terminal=True,
        download_by_contractor=True,
        limited_external_sharing=True,
    )
    assert d["verdict"] == "approval_required"
    assert {"S1-11N", *S2} <= set(ids(d))


def test_important_data_downloaded_to_internet_virtual_pc_needs_no_annex_2(judged):
    """別紙1①No.11 / 別紙1②: ②の端末対策はインターネット仮想パソコンを使用する場合を除く。
    The approval of 3.1(1)(ウ)② is still needed (ruling 2)."""
    d = judged(
        download_to_internet_terminal=True, internet_virtual_pc=True, internet_only_function=True
    )
    assert d["verdict"] == "approval_required"
    assert ids_with(d, "S2-") == []
    assert ids(d) == IMPORTANT_BASE


# --------------------------------------------------------------------- 別紙1②


def test_annex_2_not_required_for_other_methods_without_download(judged):
    """別紙1: ②は「インターネット環境からサービスを使用する場合」だけ。"""
    for method in ("local_breakout", "lgwan_asp", "government_cloud"):
        d = judged(method=method, breakout_usage="file_import", listings=["lgwan_asp"])
        assert ids_with(d, "S2-") == [], method


# ------------------------------------------------------------------ whole decisions


def test_whole_decision_for_a_listed_groupware_over_local_breakout(judged):
    """3.1(1)(イ), (ウ)①, 3.1(2), 3.2, 3.3, 別紙1①: a listed groupware over local breakout
    with file import (利用方法 C), the repository's first example."""
    d = judged(
        listings=["ismap"],
        isms_certifications=["iso27001", "iso27017"],
        method="local_breakout",
        breakout_usage="file_import",
    )
    assert list(d) == [
        "criteria_version",
        "verdict",
        "approvals",
        "pia_required",
        "findings",
        "required",
        "remedies",
    ]
    assert d["criteria_version"] == "sakai-cloud-usage-criteria@1.0"
    assert (d["verdict"], d["approvals"], d["pia_required"]) == ("permitted", [], False)
    assert ids(d) == [*T1_C, *SEL, *EXIT, *PROC, *S1_ALWAYS]
    # By weight, then in catalog order (issue #9), each naming its rule.
    assert [(f["rule"], f["clause"], f["effect"]) for f in d["findings"]] == [
        ("R-3.1-BREAKOUT-C", "3.1(1)(ウ)①", "require"),
        ("R-3.1-SELECTION", "3.1", "require"),
        ("R-3.2-EXIT", "3.2", "require"),
        ("R-3.3-PROCUREMENT", "3.3", "require"),
        ("R-ANNEX1-COMMON", "別紙1①", "require"),
        ("R-2-1-IMPORTANT", "2(1)", "info"),
        ("R-2-3-RISKS", "2(3)", "info"),
        ("R-3.1-LISTED", "3.1(1)(イ)", "info"),
    ]
    assert d["remedies"] == []


def test_whole_decision_for_a_virus_definition_feed(judged):
    """3.1(1)(イ) ただし書 and 3.1(1)(ウ)① A: an unregistered definition feed over local
    breakout, authentication and definitions only."""
    d = judged(
        confidentiality="3C",
        listings=[],
        security_update_service=True,
        administrative_documents=False,
        method="local_breakout",
        breakout_usage="auth_only",
    )
    assert (d["verdict"], d["approvals"], d["pia_required"]) == ("permitted", [], False)
    assert ids(d) == [*SU, *T1_A, *SEL, *EXIT, *PROC, *S1_ALWAYS]


# ------------------------------------------------------------------ rulings 4 and 5


def test_a_prohibited_use_needs_no_approval_even_where_one_would_be_asked(judged):
    """Ruling 4 (3.1(1)(イ), (ウ)②): ISMS alone would need the CISO, but the internet PC
    without a ground forbids the use: no approval, no measures; every reason is said."""
    d = judged(listings=[], isms_certifications=["iso27001"], method="internet_pc")
    assert d["verdict"] == "prohibited"
    assert (d["approvals"], d["required"], d["pia_required"]) == ([], [], False)
    assert [f["rule"] for f in d["findings"]] == ["R-3.1-INTERNET-PC-PROHIBITED"]
    both = judged(listings=[], method="internet_pc", my_number=True)
    assert [f["rule"] for f in both["findings"]] == [
        "R-3.1-UNLISTED",
        "R-3.1-INTERNET-PC-PROHIBITED",
        "R-ANNEX1-MY-NUMBER-INTERNET",
    ]


@pytest.mark.parametrize("level", ["2", "1"])
def test_my_number_at_a_low_level_asks_to_confirm_the_level(judged, level):
    """2 (ruling 5): 特定個人情報 is normally 3B or higher; a lower level is accepted, with a
    finding asking the applicant to confirm the classification."""
    d = judged(confidentiality=level, my_number=True, method="lgwan_asp", listings=[])
    assert d["verdict"] == "permitted"
    notes = [f for f in d["findings"] if f["rule"] == "R-2-MY-NUMBER-LEVEL"]
    assert len(notes) == 1 and notes[0]["effect"] == "info" and "3B" in notes[0]["message"]
    assert not any(f["rule"] == "R-2-MY-NUMBER-LEVEL" for f in judged(my_number=True)["findings"])


def test_python_api_gives_the_same_decision(make_request, judge):
    """Issue #2: ``cloudjudge.judge(request_dict)`` is the engine's decision."""
    import cloudjudge
    from cloudjudge.engine import parse_request

    request = make_request(method="internet_pc", limited_external_sharing=True)
    assert cloudjudge.judge(request) == judge.decide(parse_request(request))
    assert judge_api(request) == judge.decide(parse_request(request))


def test_python_api_rejects_an_invalid_request(make_request):
    """Issue #2: invalid input is a RequestError, not a decision."""
    with pytest.raises(RequestError):
        judge_api(make_request(confidentiality="4"))
