"""``cloudjudge catalog check``: each kind of authoring mistake is caught with a
message naming the entry, the Sakai catalog carries an example for every rule
and passes, and ``catalog new`` scaffolds a catalog that passes too."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from cloudjudge.catalog.loader import DEFAULT_CATALOG, load_catalog, read_catalog_file
from cloudjudge.catalog.scaffold import MARKER
from cloudjudge.engine import judge_for
from cloudjudge.engine.check import _holds_somewhere, _possible, check_catalog
from cloudjudge.engine.request import FACT_DOMAINS
from cloudjudge.engine.tables import combinations
from test_cli import run

AUTHORING = Path(__file__).parents[1] / "fixtures" / "catalogs" / "authoring"


def check(path: Path) -> tuple[int, str, str]:
    result = run("catalog", "check", str(path))
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def test_a_catalog_without_mistakes_passes():
    status, out, err = check(AUTHORING / "valid.yaml")
    assert status == 0, out + err
    assert "ルール 4 件・項目 3 件・例 3 件を検査しました。問題はありません" in out
    assert err == ""


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        (
            "schema-error.yaml",
            "誤り: items[1] (S1-01).colums: この項目は定義されていません",
        ),
        ("cel-error.yaml", "誤り: rules (R-DOWNLOAD).when: CEL 式の誤り"),
        (
            "unknown-fact.yaml",
            "誤り: rules (R-DOWNLOAD).when: 未知の項目 connection.download_to_internet_termnal",
        ),
    ],
)
def test_a_file_that_cannot_be_loaded_exits_2_naming_the_entry_on_stderr(fixture, message):
    status, out, err = check(AUTHORING / fixture)
    assert status == 2
    assert out == ""
    assert f"{AUTHORING / fixture}: {message}" in err
    assert "カタログとして使えません（誤り 1 件）" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("fixture", "line"),
    [
        (
            "unreachable-rule.yaml",
            "到達しないルール: rules (R-DOWNLOAD): どの申請でも条件が成り立たないため",
        ),
        (
            "always-true-rule.yaml",
            "常に成り立つルール: rules (R-DOWNLOAD): どの申請でも条件が成り立ちます",
        ),
        (
            "shadowed-rule.yaml",
            "禁止に隠れるルール: rules (R-DOWNLOAD): "
            "条件が成り立つ申請では必ず禁止のルールも成り立つ",
        ),
        (
            "unrequired-item.yaml",
            "どのルールも求めない項目: items (RISK-A): この項目を求めるルールがありません",
        ),
        (
            "failing-example.yaml",
            "例の不一致: examples (掲載のないサービス).expect.verdict: "
            "判定は「利用可」のはずが「承認が必要」でした",
        ),
    ],
)
def test_each_authoring_mistake_exits_1_with_its_message(fixture, line):
    status, out, _ = check(AUTHORING / fixture)
    assert status == 1
    assert f"{AUTHORING / fixture}: {line}" in out
    assert "問題が" in out.splitlines()[-1]


def test_the_unreachable_rule_also_leaves_its_item_unrequired():
    """A rule that cannot fire takes its item with it: both are reported."""
    report = check_catalog(AUTHORING / "unreachable-rule.yaml")
    kinds = {(f.kind, f.entry) for f in report.findings}
    assert ("unreachable", "rules (R-DOWNLOAD)") in kinds
    assert ("unrequired", "items (S1-02)") in kinds


def test_an_item_only_a_shadowed_rule_requires_is_unrequired():
    """A prohibited decision requires nothing, so an item required only under a
    prohibition is never required."""
    report = check_catalog(AUTHORING / "shadowed-rule.yaml")
    kinds = {(f.kind, f.entry) for f in report.findings}
    assert ("shadowed", "rules (R-DOWNLOAD)") in kinds
    assert ("unrequired", "items (S1-02)") in kinds
    assert ("unreachable", "rules (R-DOWNLOAD)") not in kinds


def test_the_search_for_a_request_agrees_with_trying_every_combination():
    """``_holds_somewhere`` against brute force, for each Sakai rule with each
    prohibition (where their facts are few enough to try them all)."""
    judge = judge_for(load_catalog(DEFAULT_CATALOG))
    rules = judge.catalog.rules
    prohibitions = [n for n, r in enumerate(rules) if r.effect == "prohibit"]
    compared = 0
    for n, rule in enumerate(rules):
        for p in prohibitions:
            if rule.effect == "prohibit":
                continue
            first, second = judge.conditions[n], judge.conditions[p]
            reads = sorted(set(first.reads) | set(second.reads))
            if math.prod(len(FACT_DOMAINS[r]) for r in reads) > 20_000:
                continue
            brute = any(
                _possible(reads, combination)
                and first.holds(dict(zip(reads, combination, strict=True)))
                and not second.holds(dict(zip(reads, combination, strict=True)))
                for combination in combinations(reads)
            )
            assert _holds_somewhere([(first, True), (second, False)]) is brute, (rule.id, p)
            compared += 1
    assert compared > 100


def test_a_failing_example_names_each_difference():
    report = check_catalog(AUTHORING / "failing-example.yaml")
    messages = [str(f) for f in report.of("example")]
    assert messages == [
        "examples (掲載のないサービス).expect.verdict: 判定は「利用可」のはずが「承認が必要」でした"
        "（適用されたルール: R-COMMON、R-ISMS）",
        "examples (掲載のないサービス).expect.fires: ルール R-DOWNLOAD が適用されませんでした",
        "examples (掲載のないサービス).expect.required: 必要な対策が違います"
        "（足りない: S1-02／余分: なし）",
        "examples (掲載のないサービス).expect.approvals: "
        "承認者は「なし」のはずが「統括情報セキュリティ責任者」でした",
    ]


def _variant(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((AUTHORING / "valid.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_every_rule_with_a_cel_error_is_reported_not_only_the_first(tmp_path):
    def break_two(data):
        data["rules"][1]["when"] = "data.confidentiality =="
        data["rules"][3]["when"] = "nonsense.fact"

    report = check_catalog(_variant(tmp_path, break_two))
    assert report.status == 2
    assert [f.message.split(":")[0] for f in report.of("error")] == [
        "rules (R-COMMON).when",
        "rules (R-ISMS).when",
    ]
    assert "未知の変数 nonsense" in report.of("error")[1].message


def test_an_example_whose_request_is_not_a_request_names_the_field(tmp_path):
    def misspell(data):
        data["examples"][0]["request"]["data"] = {"confidentiality": "4"}

    report = check_catalog(_variant(tmp_path, misspell))
    assert report.status == 1
    (finding,) = report.of("example")
    assert finding.entry == "examples (3Aは禁止).request.data.confidentiality"
    assert finding.message.startswith("申請として読めません")


def test_an_example_naming_an_undefined_rule_is_a_load_error(tmp_path):
    def undefined(data):
        data["examples"][0]["expect"]["fires"] = ["R-NONE"]

    report = check_catalog(_variant(tmp_path, undefined))
    assert report.status == 2
    assert "examples (3Aは禁止).expect.fires: 未定義のルール R-NONE" in str(report.of("error")[0])


def test_a_rule_no_example_fires_is_a_note_not_a_problem(tmp_path):
    def untested(data):
        data["examples"] = data["examples"][1:]

    report = check_catalog(_variant(tmp_path, untested))
    assert report.status == 0
    assert [str(f) for f in report.of("note")] == [
        "rules (R-3A): このルールが適用される例がありません"
        "（examples の expect.fires に加えてください）"
    ]


def test_json_output_lists_the_findings_with_their_kind():
    result = run("catalog", "check", "--format", "json", str(AUTHORING / "unrequired-item.yaml"))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["status"] == 1
    assert report["counts"] == {"rules": 4, "items": 3, "examples": 3}
    assert report["findings"][0]["kind"] == "unrequired"
    assert report["findings"][0]["entry"] == "items (RISK-A)"


ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n"
        for a, b in zip("abcdefghi", "bcdefghij", strict=True)
    )
    + "id: *j\n"
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (ALIAS_BOMB, "YAML のエイリアス（*a）は使えません"),
        ("id: " + "[" * 100 + "]" * 100, "入れ子が深すぎます（32 段まで）"),
        ("id: " + "[" * 10_000 + "]" * 10_000, "YAML の構文誤り"),  # libyaml's own bound
        ("id: x\n" + "#" * (8 * 1024 * 1024), "カタログが大きすぎます（8 MiB まで）"),
        ("- just a list\n", "カタログの最上位はキーと値の組でなければなりません"),
    ],
    ids=["aliases", "deep", "very-deep", "oversized", "not-a-mapping"],
)
def test_a_hostile_catalog_file_is_refused_with_a_message(tmp_path, content, message):
    path = tmp_path / "hostile.yaml"
    path.write_text(content, encoding="utf-8")
    status, out, err = check(path)
    assert status == 2
    assert out == ""
    assert f"{path}: 誤り: " in err
    assert message in err
    assert "Traceback" not in err


def test_a_missing_file_exits_2():
    status, out, err = check(AUTHORING / "no-such.yaml")
    assert status == 2
    assert out == ""
    assert "カタログを読めません" in err


# --------------------------------------------------------------------------- Sakai


def test_the_sakai_catalog_passes_with_no_note():
    report = check_catalog(DEFAULT_CATALOG)
    assert report.status == 0
    assert report.findings == []
    assert report.examples >= 20


def test_the_sakai_catalog_has_an_example_firing_every_rule():
    doc = read_catalog_file(DEFAULT_CATALOG)
    fired = {rule for example in doc.examples for rule in example.expect.fires}
    assert [r.id for r in doc.rules if r.id not in fired] == []


def test_the_sakai_examples_cover_every_verdict():
    doc = read_catalog_file(DEFAULT_CATALOG)
    assert {e.expect.verdict for e in doc.examples} == {
        "prohibited",
        "approval_required",
        "permitted",
    }


def test_a_broken_sakai_example_is_caught(tmp_path):
    """The examples are a real test: a changed rule breaks one."""
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    changed = text.replace(
        """when: '${important} && !${listed} && !${update_feed_exception} && ${isms_certified}'""",
        """when: '${important} && !${listed} && ${isms_certified}'""",
    )
    assert changed != text
    path = tmp_path / "sakai.yaml"
    path.write_text(changed, encoding="utf-8")
    report = check_catalog(path)
    assert report.status == 1
    assert any(
        f.entry.startswith("examples (更新情報の配信ツール（行政文書を扱わない）)")
        for f in report.of("example")
    )


def test_examples_in_the_file_change_the_cache_key_and_load_from_cache(tmp_path, monkeypatch):
    """The cache keys on the bytes: the same file loads the same from the cache,
    and an edited example is a different key (so it is checked again)."""
    monkeypatch.setenv("CLOUDJUDGE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "c.yaml"
    path.write_bytes((AUTHORING / "valid.yaml").read_bytes())
    first, again = load_catalog(path), load_catalog(path)
    assert again.digest == first.digest
    assert [r.id for r in again.rules] == [r.id for r in first.rules]
    path.write_bytes(path.read_bytes().replace(b"name: 3A", b"name: 3A-edited"))
    assert load_catalog(path).digest != first.digest


# --------------------------------------------------------------------------- catalog new


def test_catalog_new_scaffolds_a_catalog_that_check_accepts(tmp_path):
    out = tmp_path / "example-city.yaml"
    result = run(
        "catalog", "new", "-o", str(out), "--id", "example-city-cloud", "--publisher", "例示市"
    )
    assert result.returncode == 0, result.stderr.decode()
    doc = read_catalog_file(out)
    sakai = read_catalog_file(DEFAULT_CATALOG)
    assert (doc.id, doc.publisher, doc.version) == ("example-city-cloud", "例示市", "0.1")
    assert [i.id for i in doc.items] == [i.id for i in sakai.items]
    assert [c.ref for c in doc.clauses] == [c.ref for c in sakai.clauses]
    assert [(r.id, r.when, r.effect) for r in doc.rules] == [
        (r.id, r.when, r.effect) for r in sakai.rules
    ]
    assert all(i.text.startswith(MARKER) for i in doc.items)
    assert all(r.message.startswith(MARKER) for r in doc.rules)
    status, text, _ = check(out)
    assert status == 0
    assert "注意: 「【要書換え】」の付いた題目・本文・説明文が" in text
    assert "問題はありません" in text


def test_catalog_new_refuses_to_overwrite_and_a_bad_id(tmp_path):
    out = tmp_path / "c.yaml"
    out.write_text("keep", encoding="utf-8")
    result = run("catalog", "new", "-o", str(out), "--id", "x", "--publisher", "例示市")
    assert result.returncode == 2
    assert "ファイルが既にあります" in result.stderr.decode()
    assert out.read_text(encoding="utf-8") == "keep"
    bad = run("catalog", "new", "-o", str(tmp_path / "d.yaml"), "--id", "例 市", "--publisher", "x")
    assert bad.returncode == 2
    assert "--id:" in bad.stderr.decode()
    assert not (tmp_path / "d.yaml").exists()
