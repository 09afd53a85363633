"""The PDF reports: Japanese text poppler can read, every required ID, page
numbers, and a first page that renders (kept under var/ for a person to look at)."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest

from cloudjudge.documents import (
    ApplicationSummary,
    RegisterRow,
    application_report_pdf,
    register_report_pdf,
)
from cloudjudge.labels import SEAL_ROLES


def _squeeze(text: str) -> str:
    """pdftotext breaks wrapped cells into lines; compare without whitespace."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def report(make_summary, tmp_path_factory) -> tuple[ApplicationSummary, Path]:
    summary = make_summary("storage")
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    path.write_bytes(application_report_pdf(summary))
    return summary, path


def test_poppler_reads_the_japanese_cid_fonts(report, poppler):
    """The reports use reportlab's non-embedded CID fonts; poppler needs its
    Adobe-Japan1 tables to read them, and a Japanese font to draw them."""
    _, path = report
    assert "クラウドサービス利用判断報告書" in poppler.text(path), (
        "pdftotext cannot read the Japanese CID fonts: apt-get install poppler-data"
    )


def test_the_report_is_a_pdf(report):
    _, path = report
    assert path.read_bytes().startswith(b"%PDF-")


def test_pdftotext_finds_the_verdict_and_every_required_id(report, poppler):
    summary, path = report
    text = poppler.text(path)
    squeezed = _squeeze(text)
    assert "クラウドサービス利用判断報告書" in squeezed
    assert "承認が必要" in squeezed, "Japanese text missing: is poppler-data installed?"
    for entry in summary.decision["required"]:
        assert entry["id"] in text, entry["id"]
    for finding in summary.decision["findings"]:
        assert _squeeze(finding["message"]) in squeezed
    assert "オンラインストレージ" in squeezed and "2025-0007" in text
    assert "統括情報セキュリティ責任者" in squeezed  # the approval needed


def test_the_report_shows_facts_status_evidence_approvals_and_version(report, poppler):
    summary, path = report
    squeezed = _squeeze(poppler.text(path))
    for fact in (
        "取り扱う情報の機密性",
        "自治体機密性3B（重要情報資産）",
        "インターネットパソコン方式",
    ):
        assert _squeeze(fact) in squeezed
    for status in ("未対応", "対応中", "対応済", "該当なし"):
        assert status in squeezed
    assert "SLA契約書" in squeezed and "ISMS認証登録証" in squeezed  # evidence
    assert "専用端末を使用しないため" in squeezed  # the note under a 該当なし measure
    for record in summary.approvals:
        assert _squeeze(record.actor) in squeezed
    assert "2025/07/03 14:05" in poppler.text(path)
    assert summary.version in squeezed and "2025/07/1108:00" in squeezed
    for role in SEAL_ROLES:
        assert role in squeezed  # 押印欄


def _footer(poppler, path: Path, page: int) -> str:
    """The text of the bottom 15 mm of one A4 page (where the footer is drawn)."""
    crop = ["-x", "0", "-y", "800", "-W", "595", "-H", "42"]
    pages = ["-f", str(page), "-l", str(page)]
    command = [poppler.pdftotext, "-enc", "UTF-8", *pages, *crop, str(path), "-"]
    return _squeeze(subprocess.run(command, capture_output=True, check=True, text=True).stdout)


def test_every_page_is_numbered_n_of_total(report, poppler):
    summary, path = report
    pages = int(poppler.info(path)["Pages"])
    assert pages >= 2
    for n in range(1, pages + 1):
        footer = _footer(poppler, path, n)
        assert f"{n}/{pages}" in footer  # 「1 / 5」
        assert summary.version in footer and summary.number in footer


def test_page_one_renders(report, poppler, output_dir):
    """Kept as var/test-output/report-page1.png: look at it for tofu (□) after changes."""
    _, path = report
    png = poppler.render_first_page(path, output_dir / "report-page1")
    assert png.exists() and png.read_bytes().startswith(b"\x89PNG")
    assert png.stat().st_size > 10_000  # not a blank page


def test_a_prohibited_application_reports_its_verdict(make_summary, poppler, tmp_path):
    summary = make_summary("my_number", number="2025-0031")
    path = tmp_path / "prohibited.pdf"
    path.write_bytes(application_report_pdf(summary))
    squeezed = _squeeze(poppler.text(path))
    verdict_box = squeezed[squeezed.index("3.判定結果") : squeezed.index("判定理由")]
    assert "禁止" in verdict_box and "承認が必要" not in verdict_box
    assert "LGWAN回線又はガバメントクラウド専用線を使用してください" in squeezed
    # Issue #9: the way out, with what changes and the verdict it leads to; no measures.
    remedies = squeezed[squeezed.index("利用できるようにする変更") : squeezed.index("4.必要な対策")]
    assert "接続方法:ローカルブレイクアウト方式→LGWAN-ASP利用方式" in remedies
    assert "利用可" in remedies and "別紙1①" in remedies
    measures = squeezed[squeezed.index("4.必要な対策") : squeezed.index("5.承認の記録")]
    assert "禁止のため、対策は求めません。" in measures
    assert "S1-12" not in measures


def test_measures_show_their_full_text_and_who_carries_them_out(report, poppler, catalog):
    """Issue #9: a title can hide a condition (S2-14's 「(複数台でネットワークを組む際は)」),
    so the report prints each measure's text, and who carries it out."""
    summary, path = report
    squeezed = _squeeze(poppler.text(path))
    for entry in summary.decision["required"]:
        assert _squeeze(catalog.item(entry["id"]).text) in squeezed, entry["id"]
    assert "(複数台でネットワークを組む際は)" in squeezed
    assert "実施者:本市" in squeezed and "実施者:事業者" in squeezed


def test_a_report_without_checklist_or_approvals_lists_the_decisions_items(
    make_summary, poppler, tmp_path
):
    summary = make_summary("groupware")
    bare = ApplicationSummary(
        **{**summary.__dict__, "checklist": (), "approvals": (), "generated_at": None}
    )
    path = tmp_path / "bare.pdf"
    path.write_bytes(application_report_pdf(bare))
    text = poppler.text(path)
    for entry in bare.decision["required"]:
        assert entry["id"] in text
    squeezed = _squeeze(text)
    assert "未登録" in squeezed and "承認の記録はありません" in squeezed and "利用可" in squeezed


def test_markup_in_user_text_is_printed_as_text(make_summary, poppler, tmp_path):
    summary = make_summary()
    odd = ApplicationSummary(**{**summary.__dict__, "purpose": "<b>A & B</b> の比較"})
    path = tmp_path / "odd.pdf"
    path.write_bytes(application_report_pdf(odd))
    assert "<b>A&B</b>の比較" in _squeeze(poppler.text(path))


# --------------------------------------------------------------------------- register


def _register_rows() -> list[RegisterRow]:
    methods = ("local_breakout", "internet_pc", "lgwan_asp", "government_cloud")
    verdicts = ("prohibited", "approval_required", "permitted")
    return [
        RegisterRow(
            number=f"2025-{n:04d}",
            department=("市民局 市民生活部", "健康福祉局 長寿社会部 介護保険課")[n % 2],
            service_name="オンラインストレージ" + "（文書共有・大容量ファイル転送）" * (n % 3),
            method=methods[n % 4],
            confidentiality=("3B", "3C", "2")[n % 3],
            verdict=verdicts[n % 3],
            status=("審査中", "承認済", "差戻し")[n % 3],
            review_due=date(2025, 6, 30) if n % 7 == 0 else date(2026, 3, 31),
            provider="Example Inc.",
        )
        for n in range(1, 41)
    ]


def test_the_register_lists_every_application_on_landscape_pages(poppler, tmp_path):
    rows = _register_rows()
    path = tmp_path / "register.pdf"
    path.write_bytes(register_report_pdf(rows, generated_at=datetime(2025, 7, 11, 8, 0)))
    info = poppler.info(path)
    width, height = map(float, re.findall(r"[\d.]+", info["Page size"])[:2])
    assert width > height  # landscape
    pages = int(info["Pages"])
    assert pages >= 2
    text = poppler.text(path)
    squeezed = _squeeze(text)
    for row in rows:
        assert row.number in text
    for word in ("ローカルブレイクアウト方式", "承認が必要", "禁止", "利用可", "3B（重要）"):
        assert word in squeezed
    assert "全40件" in squeezed and "見直し期限超過5件" in squeezed and "期限超過" in squeezed
    assert f"1/{pages}" in squeezed and f"{pages}/{pages}出力" in squeezed


def test_an_empty_register_still_renders(poppler, tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(register_report_pdf([], generated_at=datetime(2025, 7, 11, 8, 0)))
    assert "登録された申請はありません" in _squeeze(poppler.text(path))


def test_register_page_one_renders(poppler, tmp_path, output_dir):
    path = tmp_path / "register.pdf"
    rows = _register_rows()
    path.write_bytes(
        register_report_pdf(rows, generated_at=datetime(2025, 7, 11, 8, 0), organisation="堺市")
    )
    png = poppler.render_first_page(path, output_dir / "register-page1")
    assert png.exists() and png.stat().st_size > 10_000
