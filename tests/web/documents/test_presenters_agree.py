"""One decision, every presenter, the same words.

A judged application is shown by the terminal report (``cloudjudge judge``),
the web verdict panel (the judgement page), the PDF judgement report
(read back with pdftotext) and the register's CSV export. Each must say the
verdict, every finding's effect and every group of measures with the word
``cloudjudge.presentation.present`` gives it (from ``cloudjudge.labels``),
and none may use another word for the same thing.
"""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.urls import reverse

from cloudjudge.catalog import default_catalog
from cloudjudge.engine import parse_request
from cloudjudge.presentation import present
from cloudjudge.presentation.terminal import format_decision

from .helpers import INTERNET_PC

pytestmark = pytest.mark.django_db

#: Words the web app used to have for 承認が必要 (and other codes) before one vocabulary.
OTHER_WORDS = ("要承認（統括情報セキュリティ責任者）", "承認要", "対策要", "CISO の承認が必要")


def squeeze(text: str) -> str:
    """Without whitespace (wrapping in the PDF and the terminal inserts it)."""
    return re.sub(r"\s+", "", text).replace("\u0332", "_")


def page_text(response) -> str:
    assert response.status_code == 200
    body = response.content.decode()
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def every_presentation(client, application, poppler, tmp_path) -> dict[str, str]:
    judgement = application.latest_judgement
    catalog = default_catalog()
    terminal = format_decision(parse_request(judgement.request), judgement.decision, catalog)
    web = page_text(client.get(reverse("register:judgement", args=[application.pk, judgement.pk])))
    response = client.get(reverse("documents:report_pdf", args=[application.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    # The PDF's findings table has a rule-ID column, which pdftotext reads in
    # between the wrapped lines of the message beside it; the IDs are checked
    # on their own, so the message is compared without them.
    pdf = re.sub(r"R-[A-Z0-9][A-Z0-9.-]*[A-Z0-9]", "", poppler.text(path))
    export = client.get(reverse("documents:export_csv"))
    content = b"".join(export.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content, newline="")))
    (row,) = [r for r in rows if r["申請番号"] == application.number]
    return {"terminal": terminal, "web": web, "pdf": pdf, "csv": ",".join(row.values())}


def test_an_approval_decision_reads_the_same_everywhere(
    login, security, make_application, make_service, poppler, tmp_path
):
    service = make_service(name="オンラインストレージ", listings=(), certs=("iso27001",))
    application = make_application(service=service, **INTERNET_PC)
    view = present(application.latest_judgement.decision, default_catalog())
    assert view.verdict_label == "承認が必要"
    effects = {f.effect_label for f in view.findings}
    assert {"承認が必要", "要対策"} <= effects
    groups = [g.label for g in view.groups]
    assert len(groups) >= 3  # SEL, S1, S2, EXIT…

    shown = every_presentation(login(security), application, poppler, tmp_path)

    for where in ("terminal", "web", "pdf"):
        text = squeeze(shown[where])
        assert squeeze(view.verdict_label) in text, where
        for word in effects:
            assert squeeze(word) in text, (where, word)
        for word in groups:
            assert squeeze(word) in text, (where, word)
        for finding in view.findings:
            assert squeeze(finding.message) in text, (where, finding.rule)
        for word in OTHER_WORDS:  # as written: squeezed, 「要対策」「要対策」 reads 対策要
            assert word not in shown[where], (where, word)
    # The CSV row has the verdict and the method, in the same words.
    assert f",{view.verdict_label}," in shown["csv"]
    assert ",インターネットパソコン方式," in shown["csv"]
    for word in OTHER_WORDS:
        assert word not in shown["csv"]
    # Rule IDs on the screens that have room for them.
    for finding in view.findings:
        assert finding.rule in shown["terminal"] and finding.rule in shown["web"]


def test_a_prohibited_decision_reads_the_same_everywhere(
    login, security, make_application, make_service, poppler, tmp_path
):
    service = make_service(name="無登録ストレージ", listings=(), certs=())
    application = make_application(
        service=service,
        purpose="委託先との図面の共有",
        confidentiality="3B",
        method="internet_pc",
        breakout_usage="",
        network="internet",
    )
    view = present(application.latest_judgement.decision, default_catalog())
    assert view.prohibited and view.remedies and not view.groups

    shown = every_presentation(login(security), application, poppler, tmp_path)

    for where in ("terminal", "web", "pdf"):
        text = squeeze(shown[where])
        assert "禁止" in text, where
        for remedy in view.remedies:
            for change in remedy.changes:
                words = f"{change.field_label}: {change.before} → {change.after}"
                assert squeeze(words) in text, (where, words)
            assert squeeze(remedy.verdict_label) in text, where
            if where != "pdf":  # the PDF tabulates a remedy: changes, verdict, clause
                assert squeeze(remedy.message) in text, (where, remedy.message)
        for word in OTHER_WORDS:  # as written: squeezed, 「要対策」「要対策」 reads 対策要
            assert word not in shown[where], (where, word)
    assert ",禁止," in shown["csv"]
