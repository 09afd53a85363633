"""The procurement text (3.3) through the web: .docx read back with
python-docx, Markdown as UTF-8 text, for an application and for the catalog."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from django.urls import reverse
from docx import Document

from cloudjudge.catalog import default_catalog

pytestmark = pytest.mark.django_db

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    return "\n".join(p.text for p in document.paragraphs)


def catalog_ids(*groups: str) -> list[str]:
    return [item.id for item in default_catalog().items if item.group in groups]


def test_the_catalog_docx_has_every_sel_and_exit_item(login, applicant, output_dir):
    response = login(applicant).get(reverse("documents:catalog_procurement", args=["docx"]))
    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    label = default_catalog().label.replace("@", "_")
    disposition = response["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="procurement_{label}.docx"; ')
    assert f"filename*=UTF-8''{quote(f'調達仕様書記載事項_{label}.docx')}" in disposition
    (output_dir / "procurement-catalog.docx").write_bytes(response.content)

    text = docx_text(response.content)
    assert "外部サービスの利用に係る要件（調達仕様書記載事項）" in text
    ids = catalog_ids("SEL", "EXIT")
    assert len(ids) > 20
    for item_id in ids:
        assert item_id in text, item_id
    for item_id in catalog_ids("S1", "S2"):  # without a judgement, all of 別紙1
        assert item_id in text, item_id
    assert "【　　　】" in text  # the blanks the city fills


def test_the_catalog_markdown(login, auditor):
    response = login(auditor).get(reverse("documents:catalog_procurement", args=["md"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("# 外部サービスの利用に係る要件（調達仕様書記載事項）")
    for item_id in catalog_ids("SEL", "EXIT"):
        assert f"**{item_id}**" in text


def test_an_unknown_format_is_404(login, applicant, storage_app):
    client = login(applicant)
    assert client.get(reverse("documents:catalog_procurement", args=["pdf"])).status_code == 404
    url = reverse("documents:procurement", args=[storage_app.pk, "html"])
    assert client.get(url).status_code == 404


def test_the_application_text_has_the_measures_its_judgement_requires(
    login, applicant, storage_app, make_application
):
    client = login(applicant)
    response = client.get(reverse("documents:procurement", args=[storage_app.pk, "docx"]))
    assert response.status_code == 200
    assert f'filename="procurement_{storage_app.number}.docx"' in response["Content-Disposition"]
    text = docx_text(response.content)
    required = {e["id"] for e in storage_app.latest_judgement.decision["required"]}
    for item_id in catalog_ids("SEL", "EXIT"):
        assert item_id in text
    for item_id in catalog_ids("S1", "S2"):
        assert (item_id in text) == (item_id in required), item_id
    assert "判定「承認が必要」" in text

    # Local breakout groupware: no internet-PC measures (S2) in its text.
    groupware = make_application()
    response = client.get(reverse("documents:procurement", args=[groupware.pk, "md"]))
    text = response.content.decode("utf-8")
    assert "**S1-02**" in text and "**S2-01**" not in text


def test_another_department_cannot_get_the_application_text(login, outsider, storage_app):
    client = login(outsider)
    for fmt in ("docx", "md"):
        url = reverse("documents:procurement", args=[storage_app.pk, fmt])
        assert client.get(url).status_code == 404


def test_the_catalog_page_links_to_the_texts(login, applicant):
    page = login(applicant).get(reverse("register:catalog")).content.decode()
    assert reverse("documents:catalog_procurement", args=["docx"]) in page
    assert reverse("documents:catalog_procurement", args=["md"]) in page
