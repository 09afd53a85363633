"""Helpers of the document page tests: downloading, filling and uploading workbooks."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from cloudjudge.catalog import default_catalog

#: Internet PCs sharing files with contractors: 承認が必要, and SEL, S1, S2 and EXIT required.
INTERNET_PC = {
    "purpose": "委託先との図面の共有",
    "confidentiality": "3B",
    "method": "internet_pc",
    "breakout_usage": "",
    "network": "internet",
    "limited_external_sharing": True,
}

VENDOR_GROUPS = ("SEL", "S1", "S2", "EXIT")


def questionnaire_ids(application) -> list[str]:
    """The IDs the application's questionnaire must ask about, in the judgement's
    order: the vendor's items only (party 事業者 or both in the catalog)."""
    catalog = default_catalog()
    return [
        entry["id"]
        for entry in application.latest_judgement.decision["required"]
        if entry["id"].split("-", 1)[0] in VENDOR_GROUPS
        and catalog.item(entry["id"]).party in ("provider", "both")
    ]


# --------------------------------------------------------------------------- questionnaire helpers


def download_questionnaire(client, application, **params) -> bytes:
    params.setdefault("due", "2099-12-31")
    url = reverse("documents:questionnaire_download", args=[application.pk])
    response = client.get(url, params)
    assert response.status_code == 200, response
    return response.content


Answers = Mapping[str, tuple[str, str, str]]


def fill(data: bytes, answers: Answers, edit: Callable | None = None) -> bytes:
    """Fill the 回答 sheet: ``{item_id: (answer, explanation, evidence)}``;
    ``edit(ws)`` may tamper with the sheet afterwards."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb["回答"]
    for row in range(2, ws.max_row + 1):
        item_id = ws.cell(row, 1).value
        if item_id in answers:
            answer, explanation, evidence = answers[item_id]
            ws.cell(row, 4).value = answer
            ws.cell(row, 5).value = explanation
            ws.cell(row, 6).value = evidence
    if edit is not None:
        edit(ws)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, application, data: bytes, name: str = "回答_事業者確認票.xlsx"):
    url = reverse("questionnaires:import", args=[application.pk])
    return client.post(url, {"workbook": SimpleUploadedFile(name, data)})
