"""A catalog author's mistakes are reported as one clear line naming the entry.

Each test starts from the real catalog text, changes exactly one thing, writes
the result to a temporary file and loads it. Every edit is anchored on text
that must occur exactly once, so a later change to the catalog makes these
tests fail loudly instead of silently testing nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cloudjudge.catalog import CatalogError, default_catalog, load_catalog
from cloudjudge.catalog.loader import DEFAULT_CATALOG
from cloudjudge.engine import judge, judge_for

TEXT = DEFAULT_CATALOG.read_text(encoding="utf-8")
RAW = yaml.safe_load(TEXT)


def item_index(item_id: str) -> int:
    return next(n for n, item in enumerate(RAW["items"]) if item["id"] == item_id)


def rule_index(rule_id: str) -> int:
    return next(n for n, rule in enumerate(RAW["rules"]) if rule["id"] == rule_id)


def edited(tmp_path: Path, old: str, new: str) -> Path:
    """The real catalog with the one occurrence of ``old`` replaced by ``new``."""
    assert TEXT.count(old) == 1, f"anchor must occur exactly once: {old!r}"
    path = tmp_path / "catalog.yaml"
    path.write_text(TEXT.replace(old, new), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    """The error message; its first line names the file and the entry (CEL and YAML syntax
    errors add the parser's position diagram on the following lines)."""
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    message = str(info.value)
    assert message.splitlines()[0].startswith(f"{path}: ")
    return message


def rule_block(rule_id: str) -> str:
    """The YAML text of one rule, from its ``- id:`` line up to the next rule."""
    start = TEXT.index(f"  - id: {rule_id}\n")
    end = TEXT.find("\n  - id: ", start + 1)
    return TEXT[start : end if end != -1 else len(TEXT)]


# --------------------------------------------------------------------------- it loads


def test_the_real_catalog_loads():
    catalog = load_catalog(DEFAULT_CATALOG)
    assert catalog.label == "sakai-cloud-usage-criteria@1.0"
    assert len(catalog.rules) == len(catalog.programs) == len(catalog.conditions) == 35
    assert all("${" not in c for c in catalog.conditions)
    # RISK 5, SU 3, T1 12, SEL 19, EXIT 3, PROC 2, S1 13 and No.11's なお書, S2 22.
    assert len(catalog.items) == 80
    judge_for(catalog)  # builds every table without error


def test_an_unchanged_copy_loads(tmp_path):
    path = tmp_path / "copy.yaml"
    path.write_text(TEXT, encoding="utf-8")
    assert [r.id for r in load_catalog(path).rules] == [r.id for r in default_catalog().rules]


# ------------------------------------------------------------------------ items


def test_misspelt_key_in_an_item_names_the_item(tmp_path):
    n = item_index("S1-02")
    block_start = TEXT.index("  - id: S1-02\n")
    old = TEXT[block_start : TEXT.index("\n    text:", block_start)]
    assert "    category:" in old
    path = edited(tmp_path, old, old.replace("    category:", "    categroy:"))
    message = load_error(path)
    assert f"items[{n}] (S1-02).categroy" in message


def test_bad_id_for_its_group(tmp_path):
    n = item_index("S1-01")
    path = edited(tmp_path, "  - id: S1-01\n", "  - id: S1-1\n")
    message = load_error(path)
    assert f"items[{n}] (S1-1)" in message
    assert "S1-1" in message and "S1" in message


def test_id_in_the_wrong_group(tmp_path):
    n = item_index("S2-01")
    path = edited(tmp_path, "  - id: S2-01\n    group: S2\n", "  - id: S2-01\n    group: S1\n")
    assert f"items[{n}] (S2-01)" in load_error(path)


def test_columns_outside_table_1(tmp_path):
    old = '  - id: S1-01\n    group: S1\n    clause: "別紙1①"\n'
    path = edited(tmp_path, old, old + "    columns: [A]\n")
    assert f"items[{item_index('S1-01')}] (S1-01)" in load_error(path)


def test_duplicate_item_id(tmp_path):
    path = edited(tmp_path, "  - id: S1-02\n", "  - id: S1-01\n")
    message = load_error(path)
    assert "S1-01" in message
    assert "重複" in message


def test_item_citing_an_undefined_clause(tmp_path):
    old = '  - id: S1-01\n    group: S1\n    clause: "別紙1①"\n'
    path = edited(tmp_path, old, old.replace('"別紙1①"', '"別紙9"'))
    message = load_error(path)
    assert "S1-01" in message
    assert "別紙9" in message
    assert "未定義の条項" in message


def test_duplicate_clause_ref(tmp_path):
    path = edited(tmp_path, '  - ref: "1(2)"\n', '  - ref: "1(1)"\n')
    message = load_error(path)
    assert "1(1)" in message and "重複" in message


# ------------------------------------------------------------------------ rules


def test_rule_with_cel_syntax_error_names_the_rule(tmp_path):
    path = edited(
        tmp_path,
        "    when: 'data.confidentiality == \"3A\"'\n",
        "    when: 'data.confidentiality == == \"3A\"'\n",
    )
    message = load_error(path)
    assert "rules (R-2-3A).when" in message.splitlines()[0]
    assert "CEL" in message.splitlines()[0]


def test_rule_with_an_unknown_variable_root(tmp_path):
    path = edited(
        tmp_path,
        "    when: 'data.confidentiality == \"3A\"'\n",
        "    when: 'request.confidentiality == \"3A\"'\n",
    )
    message = load_error(path)
    assert "R-2-3A" in message
    assert "request" in message
    assert "未知の変数" in message


def test_rule_using_an_undefined_definition(tmp_path):
    old = rule_block("R-2-1-IMPORTANT")
    assert "'${important}'" in old
    path = edited(tmp_path, old, old.replace("'${important}'", "'${importent}'"))
    message = load_error(path)
    assert "R-2-1-IMPORTANT" in message
    assert "${importent}" in message


def test_definition_using_another_definition(tmp_path):
    old = "  usable: 'data.confidentiality != \"3A\"'\n"
    path = edited(tmp_path, old, "  usable: '${important} || data.confidentiality == \"2\"'\n")
    assert "definitions.usable" in load_error(path)


def test_rule_referencing_an_unknown_field_fails_when_building_the_judge(tmp_path):
    path = edited(
        tmp_path,
        "    when: 'data.confidentiality == \"3A\"'\n",
        "    when: 'data.nope == \"3A\"'\n",
    )
    catalog = load_catalog(path)  # CEL cannot know the fields; the judge does
    with pytest.raises(CatalogError) as info:
        judge_for(catalog)
    message = str(info.value)
    assert "R-2-3A" in message
    assert "data.nope" in message
    assert catalog.label in message


def test_approve_rule_without_approvals(tmp_path):
    old = rule_block("R-3.1-ISMS")
    path = edited(tmp_path, old, old.replace("    approvals: [ciso]\n", ""))
    message = load_error(path)
    assert f"rules[{rule_index('R-3.1-ISMS')}] (R-3.1-ISMS)" in message
    assert "approvals" in message


def test_approvals_on_a_rule_that_does_not_approve(tmp_path):
    old = rule_block("R-2-3A")
    path = edited(
        tmp_path,
        old,
        old.replace("    effect: prohibit\n", "    effect: prohibit\n    approvals: [ciso]\n"),
    )
    assert f"rules[{rule_index('R-2-3A')}] (R-2-3A)" in load_error(path)


def test_unknown_effect(tmp_path):
    old = rule_block("R-2-3A")
    path = edited(tmp_path, old, old.replace("effect: prohibit", "effect: forbid"))
    message = load_error(path)
    assert f"rules[{rule_index('R-2-3A')}] (R-2-3A).effect" in message


def test_require_rule_naming_an_unknown_item(tmp_path):
    path = edited(tmp_path, "    require: {items: [S1-01]}\n", "    require: {items: [S1-99]}\n")
    message = load_error(path)
    assert "R-ANNEX1-REDUNDANCY" in message
    assert "S1-99" in message
    assert "未定義の項目" in message


def test_require_rule_excepting_an_unknown_item(tmp_path):
    path = edited(tmp_path, "except_items: [S1-01, S1-11N, S1-12, S1-13]", "except_items: [S1-21]")
    message = load_error(path)
    assert "R-ANNEX1-COMMON" in message and "S1-21" in message


def test_require_rule_naming_nothing(tmp_path):
    path = edited(tmp_path, "    require: {items: [S1-01]}\n", "    require: {}\n")
    assert "R-ANNEX1-REDUNDANCY" in load_error(path)


def test_rule_citing_an_undefined_clause(tmp_path):
    old = rule_block("R-2-3A")
    path = edited(tmp_path, old, old.replace('clause: "2"', 'clause: "2(9)"'))
    message = load_error(path)
    assert "R-2-3A" in message and "2(9)" in message


def test_duplicate_rule_id(tmp_path):
    path = edited(tmp_path, "  - id: R-2-1-IMPORTANT\n", "  - id: R-2-3A\n")
    message = load_error(path)
    assert "R-2-3A" in message and "重複" in message


# ------------------------------------------------------------------- the file itself


def test_malformed_yaml(tmp_path):
    old = rule_block("R-3.1-ISMS")
    path = edited(tmp_path, old, old.replace("approvals: [ciso]", "approvals: [ciso"))
    message = load_error(path)
    assert "YAML" in message.splitlines()[0]
    broken_line = TEXT[: TEXT.index("approvals: [ciso]", TEXT.index(old))].count("\n") + 1
    assert f"line {broken_line}" in message


def test_top_level_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    assert "最上位" in load_error(path)


def test_missing_file(tmp_path):
    assert "読めません" in load_error(tmp_path / "nothing.yaml")


# ------------------------------------------------------------------ rules are data


def test_changing_a_rule_in_the_file_changes_the_judgement(tmp_path):
    """A catalog author changes the judgement without touching Python: here 3B is made
    prohibited like 3A by editing R-2-3A's condition only."""
    request = {
        "service": {"name": "テスト", "listings": ["ismap"]},
        "data": {"confidentiality": "3B"},
        "connection": {"method": "government_cloud"},
    }
    assert judge(request)["verdict"] == "permitted"
    path = edited(
        tmp_path,
        "    when: 'data.confidentiality == \"3A\"'\n",
        '    when: \'data.confidentiality in ["3A", "3B"]\'\n',
    )
    changed = judge(request, load_catalog(path))
    assert changed["verdict"] == "prohibited"
    assert changed["findings"][0]["clause"] == "2"
    assert changed["findings"][0]["effect"] == "prohibit"
    # The bundled catalog is unaffected.
    assert judge(request)["verdict"] == "permitted"


def test_changing_a_definition_changes_the_judgement(tmp_path):
    """Definitions are data too: treating level 2 as important makes 3.1's items required."""
    request = {
        "service": {"name": "テスト", "listings": ["ismap"]},
        "data": {"confidentiality": "2"},
        "connection": {"method": "local_breakout", "breakout_usage": "auth_only"},
    }
    assert not any(r["id"] == "SEL-A1" for r in judge(request)["required"])
    path = edited(
        tmp_path,
        '  important: \'data.confidentiality in ["3B", "3C"]\'\n',
        '  important: \'data.confidentiality in ["3B", "3C", "2"]\'\n',
    )
    changed = judge(request, load_catalog(path))
    assert changed["verdict"] == "permitted"
    assert any(r["id"] == "SEL-A1" for r in changed["required"])
