"""The catalog as an OSCAL 1.1 catalog (JSON), and back into a draft catalog.

Plain JSON built here, with no OSCAL library at run time (the tests validate
the output with compliance-trestle's models). The mapping:

========================  =========================================================
cloudjudge                OSCAL
========================  =========================================================
catalog id, version       ``metadata.props[catalog-id]``, ``metadata.version``
title, publisher, source  ``metadata.title``, the ``publisher`` party, ``props[source]``
clause                    a ``group`` (``id`` ``clause-N``, ``props[clause-ref]``, its
                          text as the ``overview`` part)
item                      a ``control`` of its clause's group: ``id`` the item ID,
                          ``class`` its group, ``props`` party/category/column, its
                          text as the ``statement`` part
========================  =========================================================

Rules are not part of an OSCAL catalog: a draft read back has none, and its
author adds them. Reading is bounded (size, nesting, counts), and every problem
is one Japanese message naming the place in the JSON.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from pydantic import ValidationError

from cloudjudge.catalog.schema import CatalogFile, Clause, Item
from cloudjudge.validation import japanese_message, json_depth

OSCAL_VERSION = "1.1.2"
#: Where our own property names live, as OSCAL asks of names that are not its own.
NAMESPACE = "https://cloudjudge.example/ns/oscal"
_UUIDS = uuid.UUID("6f1f7c1e-9a43-5c59-9b8e-0c4d1a0c9e13")

#: Bounds on what is read: a catalog of the criteria is well under a megabyte.
MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32
MAX_ENTRIES = 5_000


class OscalError(ValueError):
    """The OSCAL document cannot be read as a catalog; the message names where."""


def stable_uuid(*parts: str) -> str:
    """The same UUID for the same names, so an export is reproducible."""
    return str(uuid.uuid5(_UUIDS, "\x1f".join(parts)))


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NAMESPACE, "value": value}


def timestamp(moment: datetime) -> str:
    """An OSCAL date-time (with its offset, as OSCAL requires)."""
    if moment.tzinfo is None:
        raise ValueError("OSCAL timestamps need a time zone")
    return moment.isoformat(timespec="seconds")


# --------------------------------------------------------------------------- export


def _control(item: Item) -> dict[str, Any]:
    props = [_prop("party", item.party)]
    if item.category:
        props.append(_prop("category", item.category))
    props += [_prop("column", column) for column in item.columns]
    return {
        "id": item.id,
        "class": item.group,
        "title": item.title,
        "props": props,
        "parts": [{"id": f"{item.id}_smt", "name": "statement", "prose": item.text}],
    }


def _group(n: int, clause: Clause, items: list[Item]) -> dict[str, Any]:
    group: dict[str, Any] = {
        "id": f"clause-{n}",
        "class": "clause",
        "title": clause.title,
        "props": [_prop("clause-ref", clause.ref)],
    }
    if clause.text:
        group["parts"] = [{"id": f"clause-{n}_ovw", "name": "overview", "prose": clause.text}]
    if items:
        group["controls"] = [_control(item) for item in items]
    return group


def catalog_to_oscal(doc: CatalogFile, modified: datetime) -> dict[str, Any]:
    """The catalog file as an OSCAL 1.1 catalog document (``{"catalog": …}``)."""
    publisher = stable_uuid(doc.id, "party", doc.publisher)
    by_clause: dict[str, list[Item]] = {}
    for item in doc.items:
        by_clause.setdefault(item.clause, []).append(item)
    return {
        "catalog": {
            "uuid": stable_uuid(doc.id, doc.version),
            "metadata": {
                "title": doc.title,
                "last-modified": timestamp(modified),
                "version": doc.version,
                "oscal-version": OSCAL_VERSION,
                "props": [_prop("catalog-id", doc.id), _prop("source", doc.source)],
                "roles": [{"id": "publisher", "title": "発行者"}],
                "parties": [{"uuid": publisher, "type": "organization", "name": doc.publisher}],
                "responsible-parties": [{"role-id": "publisher", "party-uuids": [publisher]}],
            },
            "groups": [
                _group(n, clause, by_clause.get(clause.ref, []))
                for n, clause in enumerate(doc.clauses, start=1)
            ],
        }
    }


# --------------------------------------------------------------------------- import


def _load(stream: IO[bytes]) -> Any:
    raw = stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise OscalError(f"大きすぎます（{MAX_BYTES // 1024 // 1024} MiB まで）")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OscalError(f"UTF-8 として読めません（{exc.start + 1} バイト目）") from None
    if json_depth(text, MAX_DEPTH) > MAX_DEPTH:
        raise OscalError(f"入れ子が深すぎます（{MAX_DEPTH} 段まで）")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise OscalError(
            f"JSON として読めません（{exc.lineno} 行 {exc.colno} 文字目: {exc.msg}）"
        ) from None
    except ValueError:  # a number over Python's digit limit
        raise OscalError("JSON として読めません（数値が大きすぎます）") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OscalError(f"{where}: オブジェクトでなければなりません")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise OscalError(f"{where}: 配列でなければなりません")
    return value


def _text(parent: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    value = parent.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise OscalError(f"{where}.{key}: 文字列が必要です")
    return value


def _props(node: dict[str, Any], where: str) -> dict[str, list[str]]:
    """Our properties of a node (other namespaces' are left alone), by name."""
    found: dict[str, list[str]] = {}
    for n, prop in enumerate(_list(node.get("props"), f"{where}.props")):
        prop = _object(prop, f"{where}.props[{n}]")
        if prop.get("ns", NAMESPACE) != NAMESPACE:
            continue
        name = _text(prop, "name", f"{where}.props[{n}]")
        found.setdefault(name, []).append(_text(prop, "value", f"{where}.props[{n}]"))
    return found


def _prose(node: dict[str, Any], name: str, where: str) -> str:
    for n, part in enumerate(_list(node.get("parts"), f"{where}.parts")):
        part = _object(part, f"{where}.parts[{n}]")
        if part.get("name") == name:
            return _text(part, "prose", f"{where}.parts[{n}]", required=False)
    return ""


def _walk_groups(
    groups: list[Any], where: str
) -> Iterator[tuple[dict[str, Any], str, dict[str, Any] | None]]:
    """Every group (nested ones too) and every control (nested too) with its place:
    ``(node, where, owning group or None for a group itself)``."""
    for n, group in enumerate(groups):
        at = f"{where}[{n}]"
        group = _object(group, at)
        yield group, at, None
        yield from _walk_controls(_list(group.get("controls"), f"{at}.controls"), at, group)
        yield from _walk_groups(_list(group.get("groups"), f"{at}.groups"), f"{at}.groups")


def _walk_controls(
    controls: list[Any], where: str, group: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], str, dict[str, Any] | None]]:
    for n, control in enumerate(controls):
        at = f"{where}.controls[{n}]"
        control = _object(control, at)
        yield control, at, group
        yield from _walk_controls(_list(control.get("controls"), f"{at}.controls"), at, group)


def _refuse_repeats(kind: str, keyed: list[tuple[str, str]]) -> None:
    seen: set[str] = set()
    for key, where in keyed:
        if key in seen:
            raise OscalError(f"{where}: {kind} {key} が重複しています")
        seen.add(key)


def read_oscal_catalog(stream: IO[bytes]) -> CatalogFile:
    """A draft catalog (no rules) from an OSCAL catalog document.

    Clauses come from the groups (their ``clause-ref`` property, else their
    title), items from the controls (their ID, ``class`` as the item group)."""
    document = _object(_load(stream), "最上位")
    root = _object(document.get("catalog"), "catalog")
    metadata = _object(root.get("metadata"), "catalog.metadata")
    meta_props = _props(metadata, "catalog.metadata")
    parties = _list(metadata.get("parties"), "catalog.metadata.parties")
    publisher = next(
        (p["name"] for p in parties if isinstance(p, dict) and isinstance(p.get("name"), str)),
        "",
    )
    clauses: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    refs: dict[int, str] = {}
    for node, where, group in _walk_groups(
        _list(root.get("groups"), "catalog.groups"), "catalog.groups"
    ):
        if len(clauses) + len(items) >= MAX_ENTRIES:
            raise OscalError(f"条項と項目が多すぎます（{MAX_ENTRIES} 件まで）")
        props = _props(node, where)
        title = _text(node, "title", where)
        if group is None:
            ref = (props.get("clause-ref") or [title])[0]
            refs[id(node)] = ref
            clauses.append(
                {
                    "ref": ref,
                    "title": title,
                    "text": _prose(node, "overview", where),
                    "_where": where,
                }
            )
            continue
        items.append(
            {
                "id": _text(node, "id", where),
                "group": _text(node, "class", where),
                "clause": refs[id(group)],
                "party": (props.get("party") or ["city"])[0],
                "category": (props.get("category") or [""])[0],
                "title": title,
                "text": _prose(node, "statement", where),
                "columns": props.get("column", []),
                "_where": where,
            }
        )
    _refuse_repeats("項目 ID", [(i["id"], i["_where"]) for i in items])
    _refuse_repeats("条項", [(c["ref"], c["_where"]) for c in clauses])
    draft = {
        "id": (meta_props.get("catalog-id") or [""])[0] or "imported-catalog",
        "title": _text(metadata, "title", "catalog.metadata"),
        "version": _text(metadata, "version", "catalog.metadata"),
        "publisher": publisher or "（発行者）",
        "source": (meta_props.get("source") or [""])[0] or "OSCAL catalog",
        "clauses": [{k: v for k, v in c.items() if k != "_where"} for c in clauses],
        "items": [{k: v for k, v in i.items() if k != "_where"} for i in items],
        "rules": [],
    }
    try:
        return CatalogFile.model_validate(draft)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            place = f"{items[loc[1]]['_where']} ({items[loc[1]]['id']})"
            field = ".".join(str(p) for p in loc[2:])
        else:
            place, field = "catalog", ".".join(str(p) for p in loc)
        more = f"（ほか {exc.error_count() - 1} 件）" if exc.error_count() > 1 else ""
        raise OscalError(
            f"{place}{'.' + field if field else ''}: {japanese_message(first)}{more}"
        ) from None


def draft_yaml(doc: CatalogFile) -> str:
    """The imported draft as a catalog file to complete with rules."""
    from cloudjudge.catalog.scaffold import catalog_yaml

    return catalog_yaml(
        doc,
        "OSCAL の catalog から cloudjudge catalog import-oscal で作った下書き。\n"
        "条項と項目の ID・本文は OSCAL のとおり。rules にルールを、examples に例を書き加え、\n"
        "cloudjudge catalog check で検査する。書き方は docs/catalog.md。",
    )
