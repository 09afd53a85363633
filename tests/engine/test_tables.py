"""The lookup tables the engine builds from the rules agree with CEL itself.

The engine never evaluates CEL while judging: each rule's condition is
tabulated over the facts it reads (``facts_read_by``). These tests check that
the tables answer what the compiled CEL program answers, that the read set is
found correctly (and errs on the side of reading too much), and that a rule too
large to tabulate is evaluated live with the same result.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudjudge.catalog import CatalogError, default_catalog, load_catalog
from cloudjudge.catalog.loader import DEFAULT_CATALOG
from cloudjudge.engine import Judge, judge_for, parse_request, tables
from cloudjudge.engine.request import FACT_DOMAINS, nested_facts
from cloudjudge.engine.tables import MAX_TABLE_SIZE, facts_read_by

CATALOG = default_catalog()
JUDGE = judge_for(CATALOG)

#: Every data.* fact, which a bare ``data`` reference widens to.
DATA_FACTS = tuple(sorted(n for n in FACT_DOMAINS if n.startswith("data.")))


def _live_judge(catalog) -> Judge:
    """A judge for ``catalog`` that evaluates every rule with CEL on each request."""
    with mock.patch.object(tables, "MAX_TABLE_SIZE", 0):
        judge = Judge(catalog)
    assert not any(c.tabulated for c in judge.conditions)
    return judge


LIVE_JUDGE = _live_judge(CATALOG)


# ------------------------------------------------------------- tables agree with CEL


def test_every_rule_of_the_real_catalog_is_tabulated():
    """The bundled rules are all small enough for tables (the engine's speed relies on it)."""
    assert [c.rule_id for c in JUDGE.conditions] == [r.id for r in CATALOG.rules]
    assert all(c.tabulated for c in JUDGE.conditions)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_tables_agree_with_cel(request_dicts, data):
    """Each rule's table answers exactly what its CEL program answers on the request."""
    values = parse_request(data.draw(request_dicts)).fact_values()
    variables = nested_facts(values)
    for program, condition in zip(CATALOG.programs, JUDGE.conditions, strict=True):
        assert condition.holds(values) is program.execute(variables), condition.rule_id


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_tabulated_and_live_judges_decide_alike(request_dicts, data):
    """Tables are an optimisation only: judging with live CEL gives the same decision."""
    request = parse_request(data.draw(request_dicts))
    assert JUDGE.decide(request) == LIVE_JUDGE.decide(request)
    assert JUDGE.decide_json(request) == LIVE_JUDGE.decide_json(request)


# --------------------------------------------------------------------- facts_read_by


def test_facts_read_by_finds_fields():
    assert facts_read_by('data.my_number && connection.network == "internet"', "R") == (
        "connection.network",
        "data.my_number",
    )
    assert facts_read_by("connection . method == 'internet_pc'", "R") == ("connection.method",)
    assert facts_read_by("true", "R") == ()


def test_facts_read_by_ignores_names_inside_string_literals():
    condition = (
        '"data.nope" != \'service.nope\' && "exceptions" == "x" && "a \\" data.nope" != ""'
        " && data.my_number"
    )
    assert facts_read_by(condition, "R") == ("data.my_number",)


def test_facts_read_by_widens_a_bare_part():
    """``data["my_number"]`` does not name the field in a way the scanner can see, so the
    rule is taken to read every field of ``data``."""
    assert facts_read_by('data["my_number"]', "R") == DATA_FACTS
    assert facts_read_by('service.listings.exists(data, data == "ismap")', "R") == (
        *DATA_FACTS,
        "service.listings",
    )


def test_facts_read_by_does_not_match_longer_identifiers():
    assert facts_read_by("metadata.x == 1 || data_x == 2 || data.my_number", "R") == (
        "data.my_number",
    )


def test_facts_read_by_rejects_an_unknown_field_naming_the_rule():
    with pytest.raises(CatalogError) as info:
        facts_read_by("data.nope", "R-TEST")
    assert "R-TEST" in str(info.value)
    assert "data.nope" in str(info.value)


def test_facts_read_by_covers_what_each_real_rule_reads():
    """Changing a fact a rule is said not to read never changes its CEL answer."""
    neutral = {name: domain[0] for name, domain in FACT_DOMAINS.items()}
    for program, condition in zip(CATALOG.programs, JUDGE.conditions, strict=True):
        for base_value in (neutral, {n: d[-1] for n, d in FACT_DOMAINS.items()}):
            expected = program.execute(nested_facts(base_value))
            for name, domain in FACT_DOMAINS.items():
                if name in condition.reads:
                    continue
                for value in domain:
                    changed = {**base_value, name: value}
                    assert program.execute(nested_facts(changed)) is expected, (
                        condition.rule_id,
                        name,
                        value,
                    )


# ---------------------------------------------------------------- live fallback

#: Reads every field of three parts: 40 × 192 × 128 combinations, far above MAX_TABLE_SIZE.
BIG_CONDITION = (
    'data["my_number"] && connection["network"] == "internet" && "ismap" in service["listings"]'
)

SMALL_RULES = f"""
rules:
  - id: R-BIG
    clause: "別紙1①"
    effect: prohibit
    when: '{BIG_CONDITION}'
    message: テスト用の大きな規則です（別紙1①）。
  - id: R-CONSTANT
    clause: "2"
    effect: info
    when: 'true'
    message: 常に成立する規則です（2）。
  - id: R-ONE
    clause: "2"
    effect: approve
    approvals: [ciso]
    when: 'data.confidentiality == "3C"'
    message: 一つの事実だけを読む規則です（2）。
"""


@pytest.fixture(scope="module")
def small_catalog_path(tmp_path_factory) -> Path:
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    head, _, _ = text.partition("\nrules:\n")
    path = tmp_path_factory.mktemp("catalog") / "small.yaml"
    path.write_text(head + "\n" + SMALL_RULES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_judge(small_catalog_path) -> Judge:
    return judge_for(load_catalog(small_catalog_path))


def test_a_rule_too_large_to_tabulate_is_evaluated_live(small_judge):
    big, constant, one = small_judge.conditions
    size = 1
    for name in big.reads:
        size *= len(FACT_DOMAINS[name])
    assert size > MAX_TABLE_SIZE
    assert big.tabulated is False
    assert constant.tabulated is True and constant.reads == ()
    assert one.tabulated is True and one.reads == ("data.confidentiality",)


BIG = ("別紙1①", "prohibit")
ALWAYS = ("2", "info")
ONE = ("2", "approve")


@pytest.mark.parametrize(
    ("overrides", "findings", "verdict"),
    [
        ({"my_number": True, "network": "internet"}, [BIG], "prohibited"),
        (
            {"my_number": True, "method": "local_breakout", "breakout_usage": "auth_only"},
            [BIG],
            "prohibited",
        ),
        ({"my_number": True, "network": "lgwan"}, [ALWAYS], "permitted"),
        ({"my_number": True, "method": "lgwan_asp"}, [ALWAYS], "permitted"),
        (
            {"my_number": True, "network": "internet", "listings": ["lgwan_asp"]},
            [ALWAYS],
            "permitted",
        ),
        ({"my_number": False, "network": "internet"}, [ALWAYS], "permitted"),
        ({"confidentiality": "3C"}, [ONE, ALWAYS], "approval_required"),
        (
            {"confidentiality": "3C", "my_number": True, "network": "internet"},
            [BIG],
            "prohibited",
        ),
    ],
)
def test_live_rule_gives_the_right_answer(small_judge, make_request, overrides, findings, verdict):
    """The live rule sees the facts with defaults filled in (local breakout's line is the
    internet unless stated), exactly as a tabulated rule would; findings by weight, a
    prohibited decision showing only its prohibitions."""
    decision = small_judge.decide(parse_request(make_request(**overrides)))
    assert [(f["clause"], f["effect"]) for f in decision["findings"]] == findings
    assert decision["verdict"] == verdict


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_live_rule_agrees_with_cel(small_judge, request_dicts, data):
    """On any request, the live rule answers what its CEL program answers."""
    values = parse_request(data.draw(request_dicts)).fact_values()
    variables = nested_facts(values)
    for program, condition in zip(
        small_judge.catalog.programs, small_judge.conditions, strict=True
    ):
        assert condition.holds(values) is program.execute(variables), condition.rule_id
