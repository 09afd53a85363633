"""Properties of the judgement over generated requests (hypothesis).

The requests come from ``request_dicts`` (conftest): every field over all of
its values, optional fields and parts left out. The properties are the ones
issues #2 and #9 ask for (the decision contract 1.1: a prohibited decision
carries nothing but its prohibitions and its remedies, findings by weight,
remedies that keep their promise), plus the conditional requirements of the
document that must hold whatever else the request says, and a verdict oracle
written directly from the document.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cloudjudge.catalog import default_catalog
from cloudjudge.engine import judge_for, parse_request
from cloudjudge.engine.request import FACT_NAMES, nested_facts

CATALOG = default_catalog()
JUDGE = judge_for(CATALOG)
ORDER = {item.id: n for n, item in enumerate(CATALOG.items)}
CLAUSE_REFS = {c.ref for c in CATALOG.clauses}

S2_ALL = {f"S2-{n:02}" for n in range(1, 23)}
EFFECT_RANK = {"prohibit": 0, "approve": 1, "require": 2, "info": 3}
RULE_ORDER = {rule.id: n for n, rule in enumerate(CATALOG.rules)}
RULES = {rule.id: rule for rule in CATALOG.rules}
DATA_FACTS = ("confidentiality", "my_number", "administrative_documents", "critical_to_citizens")
S1_ALWAYS = {f"S1-{n:02}" for n in range(2, 12)}
SELECTION = {i.id for i in CATALOG.items if i.group in ("SEL", "EXIT", "PROC")}

SETTINGS = settings(max_examples=300, deadline=None)


def decide(req: dict[str, Any]):
    return JUDGE.decide(parse_request(req))


def facts(req: dict[str, Any]) -> dict[str, Any]:
    return parse_request(req).fact_values()


# ----------------------------------------------------------------- issue #2 properties


@SETTINGS
@given(data=st.data())
def test_3a_is_always_prohibited(request_dicts, data):
    """2: 自治体機密性 3A は外部サービスで取り扱わない — whatever else the request says."""
    req = data.draw(request_dicts)
    req["data"]["confidentiality"] = "3A"
    decision = decide(req)
    assert decision["verdict"] == "prohibited"
    assert {"rule": "R-2-3A", "clause": "2", "effect": "prohibit"}.items() <= (
        decision["findings"][0].items()
    )
    assert decision["required"] == []
    assert decision["approvals"] == []
    assert decision["pia_required"] is False
    # 2 なお書: the level is the data's own, so no change of the applicant's lifts it.
    assert decision["remedies"] == []
    assert "変えても利用できません" in decision["findings"][0]["message"]


@SETTINGS
@given(data=st.data())
def test_verdict_rule_holds(request_dicts, data):
    """Issue #2: prohibited iff a finding prohibits; else approval_required iff approvals;
    else permitted. Approvals come only from approve findings."""
    req = data.draw(request_dicts)
    decision = decide(req)
    effects = [f["effect"] for f in decision["findings"]]
    if "prohibit" in effects:
        expected = "prohibited"
    elif decision["approvals"]:
        expected = "approval_required"
    else:
        expected = "permitted"
    assert decision["verdict"] == expected
    assert bool(decision["approvals"]) == ("approve" in effects and expected != "prohibited")
    assert set(decision["approvals"]) <= {"ciso"}
    assert len(decision["approvals"]) == len(set(decision["approvals"]))


@SETTINGS
@given(data=st.data())
def test_required_ids_exist_once_in_catalog_order(request_dicts, data):
    """Issue #2: every required ID exists in the catalog, once, in catalog (document) order,
    with the catalog's own clause and title."""
    req = data.draw(request_dicts)
    required = decide(req)["required"]
    ids = [r["id"] for r in required]
    assert all(CATALOG.has_item(i) for i in ids)
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids, key=ORDER.__getitem__)
    for entry in required:
        item = CATALOG.item(entry["id"])
        assert (entry["clause"], entry["title"]) == (item.clause, item.title)
        assert entry["reason"].strip()


@SETTINGS
@given(data=st.data())
def test_judging_is_deterministic_and_does_not_mutate(request_dicts, data):
    """Issue #2: the same request judged twice gives equal decisions; the input is untouched."""
    req = data.draw(request_dicts)
    before = copy.deepcopy(req)
    first = decide(req)
    second = decide(req)
    assert req == before
    assert first == second
    assert first is not second
    # Mutating one decision cannot leak into the next.
    first["approvals"].append("x")
    first["findings"].clear()
    first["required"].clear()
    for remedy in first["remedies"]:
        remedy["changes"].clear()
    first["remedies"].clear()
    assert decide(req) == second


@SETTINGS
@given(data=st.data())
def test_decide_json_is_the_encoded_decision(request_dicts, data):
    """The batch path's JSON text is exactly the encoded decision."""
    req = data.draw(request_dicts)
    parsed = parse_request(req)
    expected = json.dumps(JUDGE.decide(parsed), ensure_ascii=False, separators=(",", ":"))
    assert JUDGE.decide_json(parsed) == expected
    assert JUDGE.decide_line(parsed) == f"{expected}\n".encode()


@SETTINGS
@given(data=st.data())
def test_findings_cite_catalog_clauses(request_dicts, data):
    """Every finding cites a clause of the catalog and names it in its Japanese message."""
    req = data.draw(request_dicts)
    decision = decide(req)
    assert decision["criteria_version"] == CATALOG.label
    for finding in decision["findings"]:
        assert finding["clause"] in CLAUSE_REFS
        assert finding["effect"] in {"prohibit", "approve", "require", "info"}
        assert finding["clause"] in finding["message"]
        # Each finding names its rule, so a reader goes from any screen to the YAML.
        rule = RULES[finding["rule"]]
        assert (rule.clause, rule.effect, rule.message) == (
            finding["clause"],
            finding["effect"],
            finding["message"],
        )


@SETTINGS
@given(data=st.data())
def test_findings_are_ordered_by_weight_then_catalog_order(request_dicts, data):
    """Issue #9: prohibit, approve, require, info; within an effect, catalog order."""
    findings = decide(data.draw(request_dicts))["findings"]
    keys = [(EFFECT_RANK[f["effect"]], RULE_ORDER[f["rule"]]) for f in findings]
    assert keys == sorted(keys)
    assert len({f["rule"] for f in findings}) == len(findings)


# ------------------------------------------------------------- prohibitions and remedies


@SETTINGS
@given(data=st.data())
def test_a_prohibited_decision_carries_only_its_prohibitions(request_dicts, data):
    """Issue #9 ruling 4: prohibited ⇒ no approvals, no required measures, no PIA; the
    findings are every prohibition; remedies exist unless the data is 3A (2 なお書)."""
    req = data.draw(request_dicts)
    decision = decide(req)
    if decision["verdict"] != "prohibited":
        assert decision["remedies"] == []
        return
    assert decision["approvals"] == []
    assert decision["required"] == []
    assert decision["pia_required"] is False
    assert decision["findings"]
    assert {f["effect"] for f in decision["findings"]} == {"prohibit"}
    # Every prohibiting rule that fires is listed, not only the first.
    values = facts(req)
    firing = [
        rule.id
        for rule, program in zip(CATALOG.rules, CATALOG.programs, strict=True)
        if rule.effect == "prohibit" and program.execute(nested_facts(values))
    ]
    assert [f["rule"] for f in decision["findings"]] == firing
    if facts(req)["data.confidentiality"] == "3A":
        assert decision["remedies"] == []
    else:
        assert 1 <= len(decision["remedies"]) <= 5


def apply_changes(req: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, Any]:
    changed = copy.deepcopy(req)
    for change in changes:
        part, field = change["field"].split(".")
        changed.setdefault(part, {})[field] = change["to"]
    return changed


@SETTINGS
@given(data=st.data())
def test_every_remedy_keeps_its_promise(request_dicts, data):
    """Issue #9: applying a remedy's changes and judging again gives exactly the verdict
    promised, never prohibited; it changes only facts the applicant controls, says where
    each came from, is minimal, and the list is smallest first."""
    req = data.draw(request_dicts)
    remedies = decide(req)["remedies"]
    sizes = [len(r["changes"]) for r in remedies]
    assert sizes == sorted(sizes)
    for remedy in remedies:
        changes = remedy["changes"]
        assert changes
        for change in changes:
            assert change["field"].split(".")[1] not in DATA_FACTS
            assert change["field"] not in (
                "service.security_update_service",
                "exceptions.council_approved_legacy",
            )
            assert change["to"] != change["from"]
        after = decide(apply_changes(req, changes))
        assert after["verdict"] == remedy["verdict"] != "prohibited"
        assert remedy["message"].endswith(
            {"permitted": "→ 利用可", "approval_required": "→ 承認が必要"}[remedy["verdict"]]
        )
        assert remedy["clause"] and remedy["clause"] in remedy["message"]
        stated = dict(zip(FACT_NAMES, parse_request(req).stated(), strict=True))
        for change in changes:
            written = stated[change["field"]]
            assert change["from"] == (list(written) if isinstance(written, tuple) else written)
        # Minimal: no single change less would do.
        for n in range(len(changes)):
            fewer = changes[:n] + changes[n + 1 :]
            if fewer:
                smaller = apply_changes(req, fewer)
                assert _invalid(smaller) or decide(smaller)["verdict"] == "prohibited"


def _invalid(req: dict[str, Any]) -> bool:
    from cloudjudge.engine import RequestError

    try:
        parse_request(req)
    except RequestError:
        return True
    return False


@SETTINGS
@given(data=st.data())
def test_remedies_are_deterministic(request_dicts, data):
    """The same facts give the same remedies in the same order, whatever the name."""
    req = data.draw(request_dicts)
    renamed = copy.deepcopy(req)
    renamed["service"]["name"] = "別の名前"
    assert decide(req)["remedies"] == decide(renamed)["remedies"]


# ------------------------------------------------------------ document properties


@SETTINGS
@given(data=st.data())
def test_conditional_requirements(request_dicts, data):
    """別紙1①, 別紙1②, 3.1(1)(ア)(ウ), 3.1(2), 3.2, 3.3: which items a usable request needs."""
    req = data.draw(request_dicts)
    f = facts(req)
    decision = decide(req)
    ids = {r["id"] for r in decision["required"]}
    level = f["data.confidentiality"]
    if level == "3A" or decision["verdict"] == "prohibited":
        assert ids == set()
        return
    important = level in ("3B", "3C")
    # 別紙1① No.2-11 always; No.1 iff critical; No.12/13 iff 特定個人情報; the なお書 of
    # No.11 iff a contractor downloads.
    assert ids >= S1_ALWAYS
    assert ("S1-11N" in ids) == f["connection.download_by_contractor"]
    assert ("S1-01" in ids) == f["data.critical_to_citizens"]
    assert ("S1-12" in ids) == ("S1-13" in ids) == f["data.my_number"]
    assert decision["pia_required"] == f["data.my_number"]
    # 3.1(2), 3.2, 3.3 iff important.
    assert (ids >= SELECTION) == important
    assert not (SELECTION & ids) or important
    # 表1 iff local breakout, by its column.
    t1 = {i for i in ids if i.startswith("T1-")}
    if f["connection.method"] == "local_breakout":
        column = {"auth_only": "A", "no_file_import": "B", "file_import": "C"}[
            f["connection.breakout_usage"]
        ]
        assert t1 == {i.id for i in CATALOG.items if column in i.columns}
    else:
        assert t1 == set()
    # 別紙1②: all or nothing; needed for an internet PC or a download, never on a virtual PC.
    s2 = {i for i in ids if i.startswith("S2-")}
    assert s2 in (set(), S2_ALL)
    internet_side = (
        f["connection.method"] == "internet_pc" or f["connection.download_to_internet_terminal"]
    )
    assert (s2 == S2_ALL) == (internet_side and not f["connection.internet_virtual_pc"])
    # SU only under the security-update exception.
    su = {i for i in ids if i.startswith("SU-")}
    exception = (
        important
        and not f["service.listings"]
        and f["connection.method"] not in ("lgwan_asp", "government_cloud")
        and f["service.security_update_service"]
        and not f["data.administrative_documents"]
    )
    assert su == ({"SU-1", "SU-2", "SU-3"} if exception else set())


@SETTINGS
@given(data=st.data())
def test_my_number_never_travels_over_an_internet_line(request_dicts, data):
    """別紙1① No.12・13: 特定個人情報 over an internet line or downloaded to an internet terminal
    is prohibited."""
    req = data.draw(request_dicts)
    f = facts(req)
    over_internet = f["connection.network"] == "internet" or f["connection.method"] in (
        "local_breakout",
        "internet_pc",
    )
    exposed = over_internet or f["connection.download_to_internet_terminal"]
    prohibited = decide(req)["verdict"] == "prohibited"
    if f["data.my_number"] and exposed:
        assert prohibited


def reference_verdict(f: dict[str, Any]) -> tuple[str, list[str]]:
    """The verdict and approvals as read directly from the document, independently of the
    catalog's rules: 2, 3.1(1)(イ) with its ただし書, 3.1(1)(ウ)②, 別紙1① No.12・13, with
    issue #9's rulings (the method implies the listing; important data downloaded to an
    internet terminal is 3.1(1)(ウ)②'s; a prohibited use needs no approval)."""
    level = f["data.confidentiality"]
    if level == "3A":
        return "prohibited", []
    important = level in ("3B", "3C")
    prohibited = False
    approval = False
    if important:
        listed = bool(f["service.listings"]) or f["connection.method"] in (
            "lgwan_asp",
            "government_cloud",
        )
        update_feed = (
            f["service.security_update_service"] and not f["data.administrative_documents"]
        )
        if not listed and not update_feed:
            if f["service.isms_certifications"]:
                approval = True
            else:
                prohibited = True
        if f["connection.method"] == "internet_pc" or f["connection.download_to_internet_terminal"]:
            ground = (
                f["exceptions.internet_only_function"] or f["exceptions.limited_external_sharing"]
            )
            if ground:
                approval = True
            elif not f["exceptions.council_approved_legacy"]:
                prohibited = True
    if f["data.my_number"]:
        internet_line = f["connection.network"] == "internet" or f["connection.method"] in (
            "local_breakout",
            "internet_pc",
        )
        if internet_line or f["connection.download_to_internet_terminal"]:
            prohibited = True
    approvals = ["ciso"] if approval else []
    if prohibited:
        return "prohibited", []
    return ("approval_required" if approval else "permitted"), approvals


@SETTINGS
@given(data=st.data())
def test_verdict_agrees_with_a_direct_reading_of_the_document(request_dicts, data):
    """2, 3.1(1)(イ), 3.1(1)(ウ)②, 別紙1①: the catalog's rules give the verdict and approvals an
    independent reading of the document gives."""
    req = data.draw(request_dicts)
    decision = decide(req)
    assert (decision["verdict"], decision["approvals"]) == reference_verdict(facts(req))
