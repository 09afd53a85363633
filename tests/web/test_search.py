"""Every search box folds width, case and kana (``web/search.py``): the
register, the registries, the audit log and the API's service picker find a
name however it was typed, on SQLite and on PostgreSQL alike (the suite runs
on both)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.audit.search import filter_entries
from cloudjudge.web.register import overview
from cloudjudge.web.register.models import Application
from cloudjudge.web.search import fold, search_words

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("ｋｉｎｔｏｎｅ", "kintone"),
        ("Kintone", "kintone"),
        ("ｸﾗｳﾄﾞ", "クラウド"),
        ("くらうど", "クラウド"),
        ("ＡＢＣドライブ", "abcドライブ"),
        ("①", "1"),
    ],
)
def test_fold(typed, folded):
    assert fold(typed) == folded


@pytest.fixture
def services(make_application, make_service):
    made = {
        "kintone": make_application(
            service=make_service(name="kintone", provider="サイボウズ株式会社")
        ),
        "cloud": make_application(
            service=make_service(name="クラウド会計", provider="会計システム株式会社")
        ),
        "hira": make_application(
            service=make_service(name="ぐるーぷうぇあ", provider="ひらがな商事"),
            purpose="ＷＥＢ会議",
        ),
    }
    return made


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ｋｉｎｔｏｎｅ", {"kintone"}),
        ("KINTONE", {"kintone"}),
        ("ｸﾗｳﾄﾞ", {"cloud"}),
        ("くらうど", {"cloud"}),
        ("グループウェア", {"hira"}),
        ("ｗｅｂ 会議", {"kintone", "cloud", "hira"}),  # the purpose, folded
        ("ｻｲﾎﾞｳｽﾞ　kintone", {"kintone"}),  # a full-width space separates words too
        ("kintone クラウド", set()),  # every word must be found
    ],
)
def test_the_register_folds_width_and_kana(services, q, expected):
    found = set(overview.search_register(Application.objects.all(), q=q))
    assert found == {services[k] for k in expected}


def test_the_register_page_finds_kintone_typed_full_width(login, services, applicant):
    page = login(applicant).get(reverse("register:list"), {"q": "ｋｉｎｔｏｎｅ"}).content.decode()
    assert services["kintone"].number in page
    assert services["cloud"].number not in page


def test_the_api_service_picker_folds_too(login, services, applicant):
    body = login(applicant).get("/api/v1/services", {"q": "ｸﾗｳﾄﾞ"}).json()
    assert [s["name"] for s in body["items"]] == ["クラウド会計"]


def test_the_audit_log_search_folds(applicant, security, login, make_user):
    trail.record(
        Action.EXPORT, actor=security, object_type="x.y", object_repr="クラウド台帳の書き出し"
    )
    found = filter_entries(AuditEntry.objects.all(), q="ｸﾗｳﾄﾞ")
    assert [e.object_repr for e in found] == ["クラウド台帳の書き出し"]
    assert filter_entries(AuditEntry.objects.all(), q="くらうど").count() == 1
    page = login(make_user("auditor")).get("/audit/", {"q": "ｸﾗｳﾄﾞ"}).content.decode()
    assert "クラウド台帳の書き出し" in page


def test_search_words_leaves_the_queryset_alone_without_words(services):
    qs = Application.objects.all()
    assert search_words(qs, "  \u3000 ", ["purpose"]) is qs


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("議", {"kintone", "cloud", "hira"}),  # one character: no piece to ask the index for
        ("ｗｅｂ会議", {"hira"}),  # the pieces and the word itself (others have a space)
        ("会議ｗｅｂ", set()),  # every piece is there, the word is not
        ("100%", set()),  # LIKE's wildcards are text
        ("_", set()),
    ],
)
def test_short_words_pieces_and_wildcards(services, q, expected):
    found = set(overview.search_register(Application.objects.all(), q=q))
    assert found == {services[k] for k in expected}


def test_the_register_finds_an_application_by_its_number(services):
    number = services["cloud"].number
    assert set(overview.search_register(Application.objects.all(), q=number.lower())) == {
        services["cloud"]
    }


def test_on_postgresql_the_register_search_asks_the_bigram_index(services):
    """No scan of the register: the purpose and number pieces come from the GIN
    index of migration 0008 (issue 14, the national size)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the bigram index is PostgreSQL's (SQLite scans, at a city's size)")
    # The paginator's count, which reads every match (the page itself may walk
    # the sort key's index and stop at the 25th).
    qs = overview.search_register(Application.objects.all(), q="会議").order_by()
    with connection.cursor() as cursor:
        # A tiny table: forbid the scans a planner prefers on it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "app_purpose_bigrams" in plan and "app_number_bigrams" in plan, plan


def test_a_common_word_is_counted_up_to_a_limit(login, applicant, make_application, monkeypatch):
    """A word found in 70,000 of the nation's applications is not counted to
    the end (3.2 s): the list says "more than" the limit and how to narrow it;
    a rarer word and a list without words keep their exact count."""
    monkeypatch.setattr(overview, "SEARCH_COUNT_LIMIT", 2)
    for _ in range(3):
        make_application(purpose="Web 会議の録画")
    make_application(purpose="電子申請")
    client = login(applicant)
    common = client.get(reverse("register:list"), {"q": "会議"})
    assert common.context["more"] and common.context["total"] == 2
    assert (
        "2 件を超えて該当します（先頭の 2 件を表示）。語や条件を加えて絞り込んでください。"
        in common.content.decode()
    )
    assert len(common.context["page"].object_list) == 2
    rare = client.get(reverse("register:list"), {"q": "電子"})
    assert not rare.context["more"] and rare.context["total"] == 1
    assert "1 件" in rare.content.decode()
    everything = client.get(reverse("register:list"))
    assert not everything.context["more"] and everything.context["total"] == 4
