"""A catalog diff (``engine.revisions``) as a terminal report, in Japanese."""

from __future__ import annotations

from cloudjudge.engine.revisions import CatalogDiff, Reworded, marked

_FIELD_WORDS = {
    "title": "題目",
    "text": "本文",
    "category": "区分",
    "clause": "条項",
    "group": "グループ",
    "party": "実施者",
    "columns": "表1 の列",
    "effect": "効果",
    "when": "条件",
    "message": "理由の文",
    "approvals": "承認",
    "require": "必要な対策",
    "pia": "PIA",
}


def field_words(fields: tuple[str, ...]) -> str:
    return "・".join(_FIELD_WORDS.get(f, f) for f in fields)


def _reworded(entry: Reworded) -> list[str]:
    lines = [f"  {entry.id} {entry.title}（{field_words(entry.fields)}）"]
    for name, pieces in entry.diffs:
        lines.append(f"    {_FIELD_WORDS.get(name, name)}: {marked(pieces)}")
    return lines


def format_catalog_diff(diff: CatalogDiff) -> str:
    """The report of ``cloudjudge catalog diff``: text and rules, then what it does."""
    out = [f"判断基準 {diff.old.label} → {diff.new.label}", ""]
    out.append(
        f"項目: 追加 {len(diff.items_added)}、削除 {len(diff.items_removed)}、"
        f"文言の変更 {len(diff.items_reworded)}"
    )
    out += [f"  + {i.id} {i.title}" for i in diff.items_added]
    out += [f"  - {i.id} {i.title}" for i in diff.items_removed]
    for entry in diff.items_reworded:
        out += _reworded(entry)
    if diff.clauses_added or diff.clauses_removed or diff.clauses_reworded:
        out.append(
            f"条項: 追加 {len(diff.clauses_added)}、削除 {len(diff.clauses_removed)}、"
            f"文言の変更 {len(diff.clauses_reworded)}"
        )
        out += [f"  + {ref}" for ref in diff.clauses_added]
        out += [f"  - {ref}" for ref in diff.clauses_removed]
        for entry in diff.clauses_reworded:
            out += _reworded(entry)
    out.append(
        f"ルール: 追加 {len(diff.rules_added)}、削除 {len(diff.rules_removed)}、"
        f"変更 {len(diff.rules_changed)}"
    )
    out += [f"  + {r.id}（{r.clause}）" for r in diff.rules_added]
    out += [f"  - {r.id}（{r.clause}）" for r in diff.rules_removed]
    for change in diff.rules_changed:
        out.append(f"  ~ {change.id}（{change.clause}）: {field_words(change.fields)}")
        if "when" in change.fields:
            out.append(f"      旧: {change.old_when}")
            out.append(f"      新: {change.new_when}")
    out += [
        "",
        f"判定への影響: 申請の事実の組合せ {diff.combinations:,} 通りのうち "
        f"{diff.affected:,} 通りで判定・承認・必要な対策が変わる",
    ]
    if not diff.effects:
        out.append("  変わる組合せはありません")
    out += [f"  ・{effect.summary}" for effect in diff.effects]
    return "\n".join(out) + "\n"
