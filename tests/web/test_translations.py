"""The UI is complete in both languages: the msgids are the English UI, the
Japanese catalogs translate every one of them.

- every message the source marks for translation (Python, templates) is in a
  Japanese catalog: extracted with ``makemessages`` from a copy of the source,
  so a new ``_("…")`` or ``{% translate %}`` without its Japanese fails here;
- no catalog entry is empty or fuzzy, and every ``%(name)s`` of a msgid is in
  its msgstr (``msgfmt --check-format`` also runs in ``scripts/check-translations``);
- the English UI shows no Japanese of its own: templates other than e-mails
  carry no Japanese outside translation tags (catalog text and engine
  findings, which stay Japanese by design, come from data, not templates).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

WEB = Path(__file__).resolve().parents[2] / "src" / "cloudjudge" / "web"
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
#: Templates written in Japanese on purpose: e-mails go to the city's staff in Japanese.
JAPANESE_TEMPLATES = ("email/",)
PLACEHOLDER = re.compile(r"%\((\w+)\)")
#: Words a template may show as they are: each language's own name.
OWN_NAMES = ("日本語",)


def _unquote(lines: list[str]) -> str:
    return "".join(
        bytes(line.strip()[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode()
        for line in lines
    )


def parse_po(path: Path) -> dict[tuple[str, str], dict]:
    """``(msgctxt, msgid)`` → ``{"msgstr": [...], "fuzzy": bool, "plural": str}``
    (entries need not be separated by blank lines: msgfmt does not ask it)."""
    entries: dict[tuple[str, str], dict] = {}
    fields: dict[str, list[str]] = {}
    state = {"fuzzy": False, "next_fuzzy": False}

    def flush() -> None:
        if "msgid" in fields and _unquote(fields["msgid"]):
            strs = [_unquote(v) for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            key = (_unquote(fields.get("msgctxt", ['""'])), _unquote(fields["msgid"]))
            entries[key] = {
                "msgstr": strs,
                "fuzzy": state["fuzzy"],
                "plural": _unquote(fields.get("msgid_plural", ['""'])),
            }
        fields.clear()

    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in line:
                state["next_fuzzy"] = True
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line)
        if match:
            current = match.group(1)
            if current in ("msgctxt", "msgid") and any(k.startswith("msgstr") for k in fields):
                flush()
            if current in ("msgctxt", "msgid") and not fields:
                state["fuzzy"], state["next_fuzzy"] = state["next_fuzzy"], False
            fields[current] = [match.group(2)]
        elif line.startswith('"') and current:
            fields[current].append(line)
    flush()
    return entries


def catalogs(root: Path) -> list[Path]:
    return sorted(root.rglob("locale/ja/LC_MESSAGES/django.po"))


def all_entries(root: Path) -> dict[tuple[str, str], dict]:
    found: dict[tuple[str, str], dict] = {}
    for po in catalogs(root):
        found.update(parse_po(po))
    return found


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_every_marked_message_has_its_japanese(tmp_path, settings, monkeypatch):
    copy = tmp_path / "web"
    shutil.copytree(WEB, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo"))
    settings.LOCALE_PATHS = []  # write into the copy, never into the source tree
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["ja"], no_location=True, no_obsolete=True, verbosity=0)
    extracted = all_entries(copy)
    translated = all_entries(WEB)
    missing = sorted(
        f"{ctx + ' | ' if ctx else ''}{msgid}"
        for ctx, msgid in extracted
        if (ctx, msgid) not in translated
    )
    assert not missing, "not in any Japanese catalog:\n" + "\n".join(missing)


def test_no_entry_is_empty_fuzzy_or_drops_a_placeholder():
    problems = []
    for po in catalogs(WEB):
        for (_ctx, msgid), entry in parse_po(po).items():
            where = f"{po.relative_to(WEB)}: {msgid!r}"
            if entry["fuzzy"]:
                problems.append(f"{where} is fuzzy")
            if not all(s.strip() for s in entry["msgstr"]):
                problems.append(f"{where} is not translated")
            names = set(PLACEHOLDER.findall(msgid + entry["plural"]))
            for text in entry["msgstr"]:
                lost = names - set(PLACEHOLDER.findall(text))
                if text and lost:
                    problems.append(f"{where} loses {sorted(lost)}")
    assert not problems, "\n".join(problems)


def test_each_catalog_compiles_and_its_mo_is_current():
    if shutil.which("msgfmt") is None:
        pytest.skip("gettext is not installed")
    result = subprocess.run(
        [str(WEB.parents[2] / "scripts" / "check-translations")],
        capture_output=True,
        text=True,
        cwd=WEB.parents[2],
    )
    assert result.returncode == 0, result.stdout + result.stderr


TAGS = re.compile(
    r"\{%\s*(?:blocktranslate|blocktrans)\b.*?\{%\s*end(?:blocktranslate|blocktrans)\s*%\}"
    r"|\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}",
    re.S,
)


def test_templates_show_no_japanese_of_their_own():
    found = []
    for template in sorted(WEB.rglob("templates/**/*.html")):
        name = template.as_posix()
        if any(part in name for part in JAPANESE_TEMPLATES):
            continue
        text = TAGS.sub("", template.read_text(encoding="utf-8"))
        for own in OWN_NAMES:
            text = text.replace(own, "")
        for line in text.splitlines():
            if JAPANESE.search(line):
                found.append(f"{template.relative_to(WEB)}: {line.strip()}")
    assert not found, (
        "Japanese outside translation tags (the English UI would show it):\n" + "\n".join(found)
    )
