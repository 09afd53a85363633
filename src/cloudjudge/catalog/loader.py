"""Reading a catalog file: YAML in, a validated :class:`Catalog` out.

Catalog authors are not programmers, so every mistake is reported as one
message that names the entry (``items[12] (S1-02).text``, ``rules[3] (R-3A)``) and what
is wrong with it, and nothing half-loaded is ever returned.

A file that loaded once is kept, checked, in ``catalog.cache`` under a key of its
bytes, so the next run neither parses the YAML nor starts CEL.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from cloudjudge.catalog import cache as disk
from cloudjudge.catalog.model import Catalog
from cloudjudge.catalog.schema import CatalogFile, Rule
from cloudjudge.validation import japanese_message

if TYPE_CHECKING:
    import cel

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
            elif isinstance(node, dict) and "name" in node:
                parts[-1] += f" ({node['name']})"
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


#: libyaml's parser where PyYAML was built with it (Debian's and the wheels are).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: A catalog is a few hundred kilobytes; bounds so a hostile file is refused, not worked through.
MAX_CATALOG_BYTES = 8 * 1024 * 1024
MAX_CATALOG_DEPTH = 32


def _check_shape(text: str) -> str | None:
    """What makes the YAML unfit to build, from the parser's events alone: an
    alias (``*name``, which can make a small file expand beyond any bound) or
    nesting deeper than a catalog ever needs."""
    depth = 0
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            where = f"{mark.line + 1} 行目: " if mark is not None else ""
            return f"{where}YAML のエイリアス（*{event.anchor}）は使えません"
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_CATALOG_DEPTH:
                return f"入れ子が深すぎます（{MAX_CATALOG_DEPTH} 段まで）"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _parse(path: Path, content: bytes) -> CatalogFile:
    if len(content) > MAX_CATALOG_BYTES:
        raise CatalogError(
            f"{path}: カタログが大きすぎます（{MAX_CATALOG_BYTES // 1024 // 1024} MiB まで）"
        )
    try:
        text = content.decode("utf-8")
        problem = _check_shape(text)
        if problem is not None:
            raise CatalogError(f"{path}: {problem}")
        raw = yaml.load(text, Loader=_YAML_LOADER)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: カタログを読めません: UTF-8 ではありません") from exc
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
    _check_examples(doc, path)


def _check_examples(doc: CatalogFile, path: Path) -> None:
    """An example names rules and items that exist, and no two share a name."""
    _check_unique("例の名前", [e.name for e in doc.examples], path)
    rule_ids = {r.id for r in doc.rules}
    item_ids = {i.id for i in doc.items}
    for example in doc.examples:
        where = f"{path}: examples ({example.name}).expect"
        expect = example.expect
        for key, rules in (("fires", expect.fires), ("not_fires", expect.not_fires)):
            for rule_id in rules:
                if rule_id not in rule_ids:
                    raise CatalogError(f"{where}.{key}: 未定義のルール {rule_id}")
        for item_id in expect.required or ():
            if item_id not in item_ids:
                raise CatalogError(f"{where}.required: 未定義の項目 {item_id}")


def expand(rule: Rule, definitions: dict[str, str], path: Path | str) -> str:
    """The rule's condition with each ``${name}`` replaced by its definition."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in definitions:
            raise CatalogError(f"{path}: rules ({rule.id}).when: 未定義の定義 ${{{name}}}")
        return f"({definitions[name]})"

    return _DEFINITION_USE.sub(replace, rule.when)


def compile_expression(expression: str, where: str) -> cel.Program:
    """One CEL condition compiled, or a :class:`CatalogError` saying where and why."""
    import cel  # its import is slow; judging from tables never needs it

    try:
        program = cel.compile(expression)
    except ValueError as exc:
        raise CatalogError(f"{where}: CEL 式の誤り: {exc}") from exc
    unknown = {v.split(".")[0] for v in program.variables()} - FACT_ROOTS
    if unknown:
        raise CatalogError(f"{where}: 未知の変数 {', '.join(sorted(unknown))}")
    return program


def parse_checked(path: Path, content: bytes) -> CatalogFile:
    """The file validated against the schema, its IDs unique and every reference
    defined; the rules' CEL is not compiled yet."""
    doc = _parse(path, content)
    _check_unique("項目 ID", [i.id for i in doc.items], path)
    _check_unique("条項", [c.ref for c in doc.clauses], path)
    _check_unique("ルール ID", [r.id for r in doc.rules], path)
    _check_references(doc, path)
    for name, expression in doc.definitions.items():
        if "${" in expression:
            raise CatalogError(f"{path}: definitions.{name}: 定義の中で別の定義は使えません")
    return doc


def read_catalog_file(path: Path | str) -> CatalogFile:
    """The file as written (definitions, sources and examples included), checked
    as on load except for compiling the rules."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{path}: カタログを読めません: {exc.strerror}") from exc
    return parse_checked(path, content)


def load_catalog(path: Path | str = DEFAULT_CATALOG) -> Catalog:
    """Load and validate a catalog file, checking every rule with CEL.

    A file with the same bytes as one that loaded before is taken from the cache."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{path}: カタログを読めません: {exc.strerror}") from exc
    digest = disk.key_for("catalog", content)
    kept = _from_cache(disk.read("catalog", digest), digest)
    if kept is not None:
        return kept
    doc = parse_checked(path, content)
    conditions = tuple(expand(rule, doc.definitions, path) for rule in doc.rules)
    for rule, condition in zip(doc.rules, conditions, strict=True):
        compile_expression(condition, f"{path}: rules ({rule.id}).when")
    disk.write(
        "catalog", digest, {"file": doc.model_dump(mode="json"), "conditions": list(conditions)}
    )
    return catalog_of(doc, conditions, digest)


def catalog_of(doc: CatalogFile, conditions: tuple[str, ...], digest: str) -> Catalog:
    """The loaded catalog of a checked file and its expanded conditions."""
    return Catalog(
        id=doc.id,
        title=doc.title,
        version=doc.version,
        publisher=doc.publisher,
        clauses=doc.clauses,
        items=doc.items,
        rules=doc.rules,
        conditions=conditions,
        digest=digest,
        source=doc.source,
        effective=doc.effective,
    )


def _from_cache(entry: Any, digest: str) -> Catalog | None:
    """The catalog kept for these bytes; ``None`` if the entry is missing or unusable."""
    if not isinstance(entry, dict):
        return None
    try:
        doc = CatalogFile.model_validate(entry["file"])
        conditions = tuple(str(c) for c in entry["conditions"])
    except (KeyError, TypeError, ValidationError):
        return None
    if len(conditions) != len(doc.rules):
        return None
    return catalog_of(doc, conditions, digest)


@cache
def default_catalog() -> Catalog:
    """The bundled catalog, loaded once per process."""
    return load_catalog(DEFAULT_CATALOG)
