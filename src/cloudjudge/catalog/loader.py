"""Reading a catalog file: YAML in, a validated :class:`Catalog` out.

Catalog authors are not programmers, so every mistake is reported as one
message that names the entry (``items[12] (S1-02).text``, ``rules[3] (R-3A)``) and what
is wrong with it, and nothing half-loaded is ever returned.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import cel
import yaml
from pydantic import ValidationError

from cloudjudge.catalog.model import Catalog
from cloudjudge.catalog.schema import CatalogFile, Rule
from cloudjudge.validation import japanese_message

CATALOG_DIR = Path(__file__).parent
DEFAULT_CATALOG = CATALOG_DIR / "sakai-1.0.yaml"

#: The variables a rule may read: the four parts of a request.
FACT_ROOTS = frozenset({"service", "data", "connection", "exceptions"})

_DEFINITION_USE = re.compile(r"\$\{([a-z_]+)\}")


class CatalogError(ValueError):
    """The catalog file is not usable; the message names the entry."""


def _entry_name(raw: Any, loc: tuple[Any, ...]) -> str:
    """``items[3] (S1-02).text`` from a pydantic location and the raw data."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int):
            parts[-1] = f"{parts[-1]}[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(node, dict) and "id" in node:
                parts[-1] += f" ({node['id']})"
            elif isinstance(node, dict) and "ref" in node:
                parts[-1] += f" ({node['ref']})"
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def _parse(path: Path) -> CatalogFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: カタログを読めません: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: YAML の構文誤り: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: カタログの最上位はキーと値の組でなければなりません")
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f"（ほか {exc.error_count() - 1} 件）" if exc.error_count() > 1 else ""
        raise CatalogError(
            f"{path}: {_entry_name(raw, first['loc'])}: {japanese_message(first)}{more}"
        ) from exc


def _check_unique(kind: str, keys: list[str], path: Path) -> None:
    repeated = [k for k, n in Counter(keys).items() if n > 1]
    if repeated:
        raise CatalogError(f"{path}: {kind} {repeated[0]} が重複しています")


def _check_references(doc: CatalogFile, path: Path) -> None:
    clause_refs = {c.ref for c in doc.clauses}
    item_ids = {i.id for i in doc.items}
    for item in doc.items:
        if item.clause not in clause_refs:
            raise CatalogError(f"{path}: items ({item.id}).clause: 未定義の条項 {item.clause}")
    for rule in doc.rules:
        where = f"{path}: rules ({rule.id})"
        if rule.clause not in clause_refs:
            raise CatalogError(f"{where}.clause: 未定義の条項 {rule.clause}")
        req = rule.require
        if req is None:
            continue
        for item_id in (*req.items, *req.except_items):
            if item_id not in item_ids:
                raise CatalogError(f"{where}.require: 未定義の項目 {item_id}")
        if req.column and req.groups != ("T1",):
            raise CatalogError(f"{where}.require.column: column は groups: [T1] とだけ使えます")
        if not (req.groups or req.items):
            raise CatalogError(f"{where}.require: groups か items を指定してください")


def _expand(rule: Rule, definitions: dict[str, str], path: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in definitions:
            raise CatalogError(f"{path}: rules ({rule.id}).when: 未定義の定義 ${{{name}}}")
        return f"({definitions[name]})"

    return _DEFINITION_USE.sub(replace, rule.when)


def _compile(expression: str, where: str) -> cel.Program:
    try:
        program = cel.compile(expression)
    except ValueError as exc:
        raise CatalogError(f"{where}: CEL 式の誤り: {exc}") from exc
    unknown = {v.split(".")[0] for v in program.variables()} - FACT_ROOTS
    if unknown:
        raise CatalogError(f"{where}: 未知の変数 {', '.join(sorted(unknown))}")
    return program


def load_catalog(path: Path | str = DEFAULT_CATALOG) -> Catalog:
    """Load and validate a catalog file, compiling its rules once."""
    path = Path(path)
    doc = _parse(path)
    _check_unique("項目 ID", [i.id for i in doc.items], path)
    _check_unique("条項", [c.ref for c in doc.clauses], path)
    _check_unique("ルール ID", [r.id for r in doc.rules], path)
    _check_references(doc, path)
    for name, expression in doc.definitions.items():
        if "${" in expression:
            raise CatalogError(f"{path}: definitions.{name}: 定義の中で別の定義は使えません")
    conditions = tuple(_expand(rule, doc.definitions, path) for rule in doc.rules)
    programs = tuple(
        _compile(condition, f"{path}: rules ({rule.id}).when")
        for rule, condition in zip(doc.rules, conditions, strict=True)
    )
    return Catalog(
        id=doc.id,
        title=doc.title,
        version=doc.version,
        publisher=doc.publisher,
        clauses=doc.clauses,
        items=doc.items,
        rules=doc.rules,
        conditions=conditions,
        programs=programs,
    )


@cache
def default_catalog() -> Catalog:
    """The bundled catalog, loaded once per process."""
    return load_catalog(DEFAULT_CATALOG)
