"""The catalog as OSCAL 1.1: the export validates with compliance-trestle's
models, an OSCAL catalog imports into a draft, a round trip keeps every ID and
text, and hostile OSCAL is refused with a message (exit 2)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from trestle.oscal.catalog import Catalog as OscalCatalog

from cloudjudge.catalog.loader import DEFAULT_CATALOG, read_catalog_file
from cloudjudge.catalog.oscal import (
    MAX_BYTES,
    MAX_DEPTH,
    OscalError,
    catalog_to_oscal,
    read_oscal_catalog,
)
from cloudjudge.catalog.schema import CatalogFile
from test_cli import run

MOMENT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sakai() -> CatalogFile:
    return read_catalog_file(DEFAULT_CATALOG)


@pytest.fixture(scope="module")
def exported(sakai) -> dict:
    return catalog_to_oscal(sakai, MOMENT)


def _read(document) -> CatalogFile:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return read_oscal_catalog(io.BytesIO(raw))


def test_the_export_is_a_valid_oscal_catalog(exported, sakai):
    model = OscalCatalog.model_validate(exported["catalog"])
    assert model.metadata.title == sakai.title
    assert model.metadata.version == sakai.version
    assert len(model.groups) == len(sakai.clauses)
    # trestle reads a group without controls as its Group1, one with them as Group2
    controls = [c.id for g in model.groups for c in getattr(g, "controls", None) or []]
    assert controls == [i.id for i in sakai.items]


def test_an_item_becomes_a_control_with_its_statement_and_properties(exported, sakai):
    controls = {c["id"]: c for g in exported["catalog"]["groups"] for c in g.get("controls", [])}
    t1 = controls["T1-01"]
    item = next(i for i in sakai.items if i.id == "T1-01")
    assert t1["class"] == "T1"
    assert t1["title"] == item.title
    assert t1["parts"] == [{"id": "T1-01_smt", "name": "statement", "prose": item.text}]
    columns = [p["value"] for p in t1["props"] if p["name"] == "column"]
    assert columns == list(item.columns)


def test_the_export_is_reproducible(sakai):
    assert catalog_to_oscal(sakai, MOMENT) == catalog_to_oscal(sakai, MOMENT)


def test_a_round_trip_keeps_every_id_and_text(exported, sakai):
    draft = _read(exported)
    assert (draft.id, draft.title, draft.version, draft.publisher, draft.source) == (
        sakai.id,
        sakai.title,
        sakai.version,
        sakai.publisher,
        sakai.source,
    )
    assert draft.clauses == sakai.clauses
    assert draft.items == sakai.items
    assert draft.rules == ()


def test_a_round_trip_through_trestle_keeps_every_id_and_text(exported, sakai):
    """Written back by another OSCAL tool (trestle's own serialiser), the catalog reads the same."""
    model = OscalCatalog.model_validate(exported["catalog"])
    written = json.loads(model.oscal_serialize_json())
    assert set(written) == {"catalog"}
    draft = _read(json.dumps(written).encode())
    assert draft.clauses == sakai.clauses
    assert draft.items == sakai.items


def test_the_cli_exports_and_imports_a_draft_that_check_reads(tmp_path, sakai):
    oscal_file = tmp_path / "sakai-oscal.json"
    exported = run("catalog", "export-oscal", "-o", str(oscal_file))
    assert exported.returncode == 0, exported.stderr.decode()
    OscalCatalog.model_validate(json.loads(oscal_file.read_text(encoding="utf-8"))["catalog"])
    draft = tmp_path / "draft.yaml"
    imported = run("catalog", "import-oscal", str(oscal_file), "-o", str(draft))
    assert imported.returncode == 0, imported.stderr.decode()
    assert "条項 28 件・項目 80 件、ルールなし" in imported.stdout.decode()
    doc = read_catalog_file(draft)
    assert doc.items == sakai.items
    checked = run("catalog", "check", str(draft))
    assert checked.returncode == 1, "a draft has no rules yet: every item is unrequired"
    assert "どのルールも求めない項目: items (T1-01)" in checked.stdout.decode()


def test_export_to_stdout_is_json(sakai):
    result = run("catalog", "export-oscal")
    assert result.returncode == 0
    assert json.loads(result.stdout)["catalog"]["metadata"]["version"] == sakai.version


# --------------------------------------------------------------------------- hostile OSCAL


def _deep(depth: int) -> bytes:
    return ('{"catalog":' + "[" * depth + "]" * depth + "}").encode()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_deep(MAX_DEPTH + 10), f"入れ子が深すぎます（{MAX_DEPTH} 段まで）"),
        (b"{", "JSON として読めません（1 行 2 文字目"),
        (b"\xff\xfe", "UTF-8 として読めません"),
        (b"[]", "最上位: オブジェクトでなければなりません"),
        (b'{"catalog": {"metadata": {}}}', "catalog.metadata.title: 文字列が必要です"),
        (b'{"x": 1' + b"9" * 5000 + b"}", "JSON として読めません"),
    ],
)
def test_hostile_or_broken_oscal_is_a_clear_message(document, message):
    with pytest.raises(OscalError) as caught:
        _read(document)
    assert message in str(caught.value)


def test_an_oversized_file_is_refused_before_it_is_parsed():
    with pytest.raises(OscalError, match="大きすぎます"):
        _read(b" " * (MAX_BYTES + 1))


def test_a_control_whose_id_does_not_fit_names_the_control(exported):
    document = json.loads(json.dumps(exported))
    document["catalog"]["groups"][6]["controls"][0]["id"] = "ac-1"
    with pytest.raises(OscalError) as caught:
        _read(document)
    assert "catalog.groups[6].controls[0] (ac-1).id: 形式が正しくありません（入力値: 'ac-1'" in str(
        caught.value
    )


def test_a_control_of_an_unknown_group_names_the_control(exported):
    document = json.loads(json.dumps(exported))
    document["catalog"]["groups"][6]["controls"][0]["class"] = "AC"
    with pytest.raises(OscalError) as caught:
        _read(document)
    assert "catalog.groups[6].controls[0]" in str(caught.value)
    assert ".group" in str(caught.value)


def test_the_cli_refuses_hostile_oscal_with_exit_2_and_writes_nothing(tmp_path: Path):
    hostile = tmp_path / "deep.json"
    hostile.write_bytes(_deep(10_000))
    draft = tmp_path / "draft.yaml"
    result = run("catalog", "import-oscal", str(hostile), "-o", str(draft))
    assert result.returncode == 2
    assert f"{hostile}: 入れ子が深すぎます" in result.stderr.decode()
    assert result.stdout == b""
    assert not draft.exists()


def test_a_repeated_control_id_is_refused_naming_the_control(exported):
    document = json.loads(json.dumps(exported))
    controls = document["catalog"]["groups"][6]["controls"]
    controls[1]["id"] = controls[0]["id"]
    with pytest.raises(OscalError) as caught:
        _read(document)
    assert f"catalog.groups[6].controls[1]: 項目 ID {controls[0]['id']} が重複しています" == str(
        caught.value
    )
