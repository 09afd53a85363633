"""The Japanese labels cover every code the engine can produce."""

from __future__ import annotations

from typing import get_args

import cloudjudge
from cloudjudge import labels
from cloudjudge.catalog.schema import Approver, Effect, ItemGroup
from cloudjudge.engine.judge import Verdict
from cloudjudge.engine.request import (
    FACT_DOMAINS,
    BreakoutUsage,
    IsmsCertification,
    Listing,
    Method,
    Network,
)


def test_every_engine_code_has_a_label():
    assert set(labels.VERDICT_LABELS) == set(get_args(Verdict))
    assert labels.VERDICT_LABELS == {
        "prohibited": "禁止",
        "approval_required": "承認が必要",
        "permitted": "利用可",
    }
    assert set(labels.EFFECT_LABELS) == set(get_args(Effect))
    assert set(labels.APPROVER_LABELS) == set(get_args(Approver))
    assert set(labels.GROUP_LABELS) == set(get_args(ItemGroup))
    assert set(labels.METHOD_LABELS) == set(get_args(Method))
    assert labels.METHOD_LABELS["local_breakout"] == "ローカルブレイクアウト方式"
    assert set(labels.USAGE_LABELS) == set(get_args(BreakoutUsage))
    assert set(labels.NETWORK_LABELS) == set(get_args(Network))
    assert set(labels.LISTING_LABELS) == set(get_args(Listing))
    assert set(labels.ISMS_LABELS) == set(get_args(IsmsCertification))
    assert set(labels.CONFIDENTIALITY_LABELS) == set(FACT_DOMAINS["data.confidentiality"])
    assert set(FACT_DOMAINS) <= set(labels.FACT_LABELS)


def test_every_answer_proposes_a_checklist_status():
    assert set(labels.ANSWER_STATUS) == set(labels.ANSWER_CHOICES)
    assert set(labels.ANSWER_STATUS.values()) <= set(labels.CHECKLIST_STATUS_LABELS)


def test_fact_rows_label_a_request_with_defaults_filled_in():
    facts = {
        "service": {"name": "ウイルス定義ファイル配信", "security_update_service": True},
        "data": {"confidentiality": 2},  # YAML reads a level as a number
        "connection": {"method": "lgwan_asp"},
    }
    cloudjudge.judge(facts)  # a valid request
    rows = dict(labels.fact_rows(facts))
    assert rows["セキュリティ関連サービス（更新情報の配信のみ）"] == "はい"
    assert rows["取り扱う情報の機密性"] == "自治体機密性 2"
    assert rows["接続回線"] == "LGWAN 回線"
    assert rows["提供事業者"] == ""
    assert "利用方法（表1）" not in rows  # only with local breakout


def test_fact_rows_in_japanese():
    facts = {
        "service": {"name": "グループウェア", "listings": ["ismap", "lgwan_asp"]},
        "data": {"confidentiality": "3B", "my_number": False},
        "connection": {"method": "local_breakout", "breakout_usage": "file_import"},
    }
    rows = dict(labels.fact_rows(facts))
    assert rows["サービス名"] == "グループウェア"
    assert rows["掲載・登録"] == "ISMAP クラウドサービスリスト、LGWAN-ASP"
    assert rows["ISMS 認証"] == "なし"
    assert rows["取り扱う情報の機密性"] == "自治体機密性 3B（重要情報資産）"
    assert rows["特定個人情報を含む"] == "いいえ"
    assert rows["行政文書又はそれに相当する情報を扱う"] == "はい"  # the engine's default
    assert rows["接続方法"] == "ローカルブレイクアウト方式"
    assert rows["利用方法（表1）"].startswith("利用方法 C")
    assert rows["接続回線"] == "インターネット回線"  # implied by the method
    assert next(iter(rows)) == "サービス名"


def test_fact_rows_show_an_unparseable_request_as_given():
    rows = labels.fact_rows({"service": {"name": "X"}, "data": {"confidentiality": "9"}})
    assert ("サービス名", "X") in rows
    assert ("取り扱う情報の機密性", "9") in rows


def test_label_never_fails():
    assert labels.label(labels.VERDICT_LABELS, "permitted") == "利用可"
    assert labels.label(labels.VERDICT_LABELS, "unknown") == "unknown"
    assert labels.label(labels.VERDICT_LABELS, None) == ""
