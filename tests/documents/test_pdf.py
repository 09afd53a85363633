"""The PDF reports: Japanese text poppler can read, every required ID, page
numbers, and a first page that renders (kept under var/ for a person to look at)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from cloudjudge.documents import (
    ApplicationSummary,
    RegisterRow,
    application_report_pdf,
    register_report_pdf,
)
from cloudjudge.labels import GROUP_LABELS, SEAL_ROLES, label


def _squeeze(text: str) -> str:
    """pdftotext breaks wrapped cells into lines; compare without whitespace."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def report(make_summary, tmp_path_factory) -> tuple[ApplicationSummary, Path]:
    summary = make_summary("storage")
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    path.write_bytes(application_report_pdf(summary))
    return summary, path


def test_every_font_is_embedded_as_a_subset_with_its_unicode_map(report, poppler, tmp_path):
    """IPAex Gothic and Mincho are embedded (subset), none is left to the viewer;
    the Unicode maps make copy-paste give the right characters."""
    _, path = report
    register = tmp_path / "register.pdf"
    register.write_bytes(register_report_pdf(_register_rows()))
    for pdf in (path, register):
        fonts = poppler.fonts(pdf)
        assert fonts, "no fonts listed"
        assert {f["name"].split("+")[-1] for f in fonts} == {"IPAexGothic", "IPAexMincho"}
        for font in fonts:
            assert (font["emb"], font["sub"], font["uni"]) == ("yes", "yes", "yes"), font


def test_copied_text_is_the_right_japanese(report, poppler):
    _, path = report
    text = poppler.text(path)
    assert "クラウドサービス利用判断報告書" in text
    assert "申請の概要" in text and "インターネットパソコン方式" in _squeeze(text)


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
    # A wrapped message's second line follows its rule ID (the column beside it).
    without_rules = re.sub(r"R-[A-Z0-9][A-Z0-9.\-]*", "", squeezed)
    for finding in summary.decision["findings"]:
        assert _squeeze(finding["message"]) in without_rules
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
    # Dates as the city writes them: 和暦 (令和7年 = 2025).
    assert "令和7年7月3日 14:05" in poppler.text(path)
    assert summary.version in squeezed and "令和7年7月11日08:00" in squeezed
    assert "2025/07" not in squeezed
    for role in SEAL_ROLES:
        assert role in squeezed  # 押印欄


def test_the_seal_boxes_include_the_security_office_reviewer(report, poppler):
    _, path = report
    first_page = _squeeze(poppler.page_texts(path)[0])
    assert "情報セキュリティ課" in SEAL_ROLES
    boxes = first_page[: first_page.index("1.申請の概要")]
    assert boxes.endswith("担当情報システム管理者情報セキュリティ課統括情報セキュリティ責任者")


def test_a_seireki_city_gets_western_dates(make_summary, poppler, tmp_path):
    summary = make_summary("storage")
    path = tmp_path / "seireki.pdf"
    path.write_bytes(application_report_pdf(replace(summary, date_style="seireki")))
    text = poppler.text(path)
    assert "2025年7月3日 14:05" in text and "令和" not in text


def test_no_group_heading_is_stranded_at_a_page_foot(make_summary, poppler, tmp_path, catalog):
    """A group's row of the measures table and a section heading are never the
    last thing on a page: what follows them starts on the same page."""
    summary = make_summary("storage")
    groups = [label(GROUP_LABELS, g) for g in GROUP_LABELS]
    headings = ["4.必要な対策と対応状況", "5.承認の記録", "判定理由"]
    # Longer notes move the page breaks about: try several layouts.
    for n, extra in enumerate((0, 3, 6, 9, 12)):
        checklist = tuple(
            replace(row, note=row.note + "\n補足。" * extra) for row in summary.checklist
        )
        path = tmp_path / f"groups-{n}.pdf"
        path.write_bytes(application_report_pdf(replace(summary, checklist=checklist)))
        pages = poppler.page_texts(path)
        for page_no, page in enumerate(pages[:-1], start=1):
            lines = [_squeeze(line) for line in page.splitlines()]
            lines = [line for line in lines if line]
            body = lines[:-4]  # the footer's lines
            assert body, page_no
            last = body[-1]
            for heading in (*groups, *headings):
                assert last != _squeeze(heading), (n, page_no, last)


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


def test_every_page_renders(report, poppler, output_dir):
    _, path = report
    pngs = poppler.render_pages(path, output_dir / "report-page")
    assert len(pngs) == int(poppler.info(path)["Pages"])
    for png in pngs:
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5_000


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


def test_the_exception_grounds_are_a_row_of_the_summary_only_when_claimed(
    make_summary, poppler, tmp_path
):
    summary = make_summary()
    grounds = ("外部事業者との情報共有・ファイル共有の実現方法が限られる", "<b>委託先</b> & 設計者")
    claimed = replace(summary, exception_grounds=grounds)
    path = tmp_path / "grounds.pdf"
    path.write_bytes(application_report_pdf(claimed))
    overview = _squeeze(poppler.text(path)).split("2.申請内容", 1)[0]
    assert "例外の根拠外部事業者との情報共有・ファイル共有の実現方法が限られる" in overview
    assert "<b>委託先</b>&設計者" in overview
    for empty in ((), ("",)):
        path.write_bytes(application_report_pdf(replace(summary, exception_grounds=empty)))
        assert "例外の根拠" not in _squeeze(poppler.text(path))


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
            registry_status=(
                "",
                "ISMAP 失効（令和7年3月31日）",
                "LGWAN-ASP 取下げ",
                "ISMAP 更新申請中",
            )[n % 4],
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
    assert "登録簿の状態" in squeezed
    for status in ("ISMAP失効（令和7年", "LGWAN-ASP取下げ", "ISMAP更新申請中"):
        assert status in squeezed
    for n, page in enumerate(poppler.page_texts(path), start=1):
        assert f"{n}/{pages}" in _squeeze(page) and "出力令和7年7月11日08:00" in _squeeze(page)


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
