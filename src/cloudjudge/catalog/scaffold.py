"""``cloudjudge catalog new``: another municipality's catalog, started from Sakai's.

The scaffold keeps everything that makes a catalog work — the item IDs and
groups, the clause structure, the definitions, the rules' conditions and
effects, the examples — and marks every text written for Sakai (titles, texts,
rule messages) with :data:`MARKER`, so the author sees at once what to replace
and ``cloudjudge catalog check`` can count what is left (a note, not an error:
the scaffold is a working catalog from the first minute).
"""

from __future__ import annotations

import re

import yaml

from cloudjudge.catalog.schema import CatalogFile

#: Put in front of every text the author has to replace.
MARKER = "【要書換え】"

_CATALOG_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ScaffoldError(ValueError):
    """The options cannot make a catalog; the message names the option."""


def _marked(text: str) -> str:
    return text if not text or text.startswith(MARKER) else f"{MARKER}{text}"


def scaffold(
    source: CatalogFile, *, catalog_id: str, publisher: str, title: str = "", version: str = "0.1"
) -> CatalogFile:
    """A copy of ``source`` for ``publisher``: same IDs, structure and rules, texts marked."""
    if not _CATALOG_ID.match(catalog_id):
        raise ScaffoldError(
            f"--id: {catalog_id!r} は ID に使えません"
            "（半角英小文字・数字・ハイフン、例: example-city-cloud）"
        )
    for option, value in (("--publisher", publisher), ("--version", version)):
        if not value.strip():
            raise ScaffoldError(f"{option}: 空にはできません")
    return source.model_copy(
        update={
            "id": catalog_id,
            "title": title.strip() or _marked(source.title),
            "version": version.strip(),
            "publisher": publisher.strip(),
            "source": _marked(f"{publisher.strip()}の基準の原典（ファイル名又は URL）"),
            "clauses": tuple(
                c.model_copy(update={"title": _marked(c.title), "text": _marked(c.text)})
                for c in source.clauses
            ),
            "items": tuple(
                i.model_copy(update={"title": _marked(i.title), "text": _marked(i.text)})
                for i in source.items
            ),
            "rules": tuple(
                r.model_copy(update={"message": _marked(r.message)}) for r in source.rules
            ),
        }
    )


class _Dumper(yaml.SafeDumper):
    """Texts of several lines as ``|-`` blocks, as the bundled catalog writes them."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def catalog_yaml(doc: CatalogFile, header: str) -> str:
    """A catalog file as YAML, keys in the schema's order, defaults left out."""
    data = doc.model_dump(mode="json", exclude_defaults=True)
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + body


def scaffold_yaml(
    source: CatalogFile, *, catalog_id: str, publisher: str, title: str = "", version: str = "0.1"
) -> str:
    doc = scaffold(source, catalog_id=catalog_id, publisher=publisher, title=title, version=version)
    return catalog_yaml(
        doc,
        f"{doc.publisher}のクラウドサービス利用判断基準のカタログ"
        "（cloudjudge catalog new で作成）。\n"
        f"「{MARKER}」の付いた題目・本文・説明文を自市の基準の文言に書き換え、ルールの when を\n"
        "自市の基準に合わせ、cloudjudge catalog check で検査する。書き方は docs/catalog.md。",
    )


def marked_texts(doc: CatalogFile) -> int:
    """How many texts still carry the marker."""
    texts = [doc.title, doc.source]
    texts += [t for c in doc.clauses for t in (c.title, c.text)]
    texts += [t for i in doc.items for t in (i.title, i.text)]
    texts += [r.message for r in doc.rules]
    return sum(1 for t in texts if t.startswith(MARKER))
