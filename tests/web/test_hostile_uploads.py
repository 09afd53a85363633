"""Bombs and broken files through every way in (issue 14, "Hostile input"):
evidence uploads, the questionnaire import, and the registry imports by the
page, the API and the command. Each is refused in seconds with a Japanese
message, and nothing is written."""

from __future__ import annotations

import io
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.files import uploads
from cloudjudge.web.questionnaires.models import AnswerProposal, QuestionnaireImport
from cloudjudge.web.register.models import Evidence
from support.bombs import REFUSAL_DEADLINE_S, office_bomb, replace_part

from .documents.helpers import INTERNET_PC, download_questionnaire, upload


@pytest.fixture(scope="module")
def office_bombs():
    return {kind: office_bomb(kind) for kind in ("docx", "xlsx", "pptx")}


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx"])
def test_an_office_evidence_bomb_is_refused_before_it_is_stored(office_bombs, kind):
    data = office_bombs[kind]
    assert len(data) < 20 * 1024 * 1024  # under the upload limit
    started = time.monotonic()
    with pytest.raises(ValidationError) as caught:
        uploads.check(SimpleUploadedFile(f"証跡.{kind}", data))
    assert time.monotonic() - started < REFUSAL_DEADLINE_S
    assert caught.value.code == "oversized"
    message = caught.value.messages[0]
    assert "展開すると 1.0 GB" in message and "上限 200 MB" in message and "圧縮爆弾" in message


def test_an_office_bomb_already_stored_is_never_served_as_office(office_bombs, tmp_path):
    """Re-sniffed on download: a bomb stored before this check goes out as bytes."""
    assert uploads.sniff(io.BytesIO(office_bombs["xlsx"])).kind == "oversized"


@pytest.mark.django_db
def test_the_evidence_page_refuses_a_bomb_and_keeps_nothing(
    login, applicant, make_application, office_bombs
):
    app = make_application()
    row = app.checklist_items.first()
    url = reverse("register:evidence_upload", args=[app.pk, row.pk])
    data = office_bombs["xlsx"]
    client = login(applicant)
    response = client.post(url, {"file": SimpleUploadedFile("監査報告書.xlsx", data)})
    assert response.status_code == 302
    assert not Evidence.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.EVIDENCE_UPLOAD).exists()
    assert "展開すると 1.0 GB" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_broken_sheet_xml_in_a_questionnaire_is_a_400_not_a_500(
    login, applicant, make_application, make_service
):
    service = make_service(name="オンラインストレージ", provider="Example Storage 株式会社")
    app = make_application(service=service, **INTERNET_PC)
    client = login(applicant)
    data = replace_part(
        download_questionnaire(client, app), "xl/worksheets/sheet2.xml", lambda b: b[: len(b) // 2]
    )
    response = upload(client, app, data)
    assert response.status_code == 400
    assert "XML が壊れています" in response.content.decode()
    assert not QuestionnaireImport.objects.exists() and not AnswerProposal.objects.exists()


@pytest.mark.django_db
def test_a_questionnaire_bomb_is_refused_in_seconds(
    login, applicant, make_application, office_bombs
):
    app = make_application(**INTERNET_PC)
    client = login(applicant)
    started = time.monotonic()
    response = upload(client, app, office_bombs["xlsx"])
    assert time.monotonic() - started < REFUSAL_DEADLINE_S
    assert response.status_code == 400
    page = response.content.decode()
    assert "展開後 1.0 GB" in page and "上限 10 MB" in page
    assert not QuestionnaireImport.objects.exists()


# --------------------------------------------------------------------------- registry imports


@pytest.fixture(scope="module")
def registry_bomb(tmp_path_factory):
    from support.bombs import rows_bomb

    return rows_bomb(tmp_path_factory.mktemp("registry") / "ismap.xlsx")


def _nothing_written() -> bool:
    from cloudjudge.web.registries.models import RegistryEntry, RegistrySnapshot

    return (
        not RegistrySnapshot.objects.exists()
        and not RegistryEntry.objects.exists()
        and not AuditEntry.objects.filter(object_type="registries.registrysnapshot").exists()
    )


@pytest.mark.django_db
def test_a_registry_bomb_through_the_page(login, security, registry_bomb):
    started = time.monotonic()
    response = login(security).post(
        "/registries/import/",
        {"kind": "ismap", "file": SimpleUploadedFile("ismap.xlsx", registry_bomb.read_bytes())},
    )
    assert time.monotonic() - started < REFUSAL_DEADLINE_S
    assert response.status_code == 200
    page = response.content.decode()
    assert "展開後 1.0 GB" in page and "上限 64 MB" in page
    assert _nothing_written()


@pytest.mark.django_db
def test_a_registry_bomb_through_the_api(security, registry_bomb):
    from ninja.testing import TestClient

    from cloudjudge.web.api.routers.registries import build_router

    response = TestClient(build_router()).post(
        "/imports",
        data={"kind": "ismap"},
        FILES={"file": SimpleUploadedFile("ismap.xlsx", registry_bomb.read_bytes())},
        user=security,
    )
    assert response.status_code == 422
    (problem,) = response.json()["problems"]
    assert problem["code"] == "too_large" and "展開後 1.0 GB" in problem["message"]
    assert _nothing_written()


@pytest.mark.django_db
def test_a_registry_bomb_through_the_command(registry_bomb, capsys):
    from django.core.management import call_command

    with pytest.raises(SystemExit) as exit_status:
        call_command("registry_import", "ismap", str(registry_bomb))
    assert exit_status.value.code == 2
    assert "展開後 1.0 GB" in capsys.readouterr().err
    assert _nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "truncated zip (half)",
        "deep xml",
        "entity expansion (billion laughs)",
        "bomb inside the size cap",
        "broken ods",
        "formula in a csv value",
        "csv field over the csv limit",
    ],
)
def test_crafted_registry_files_write_nothing(security, name):
    from cloudjudge.web.registries.importing import import_registry
    from registries.test_registry_hostile import CRAFTED

    result = import_registry("ismap", CRAFTED[name](), security, filename=name)
    assert result.status == "rejected" and result.problems
    assert _nothing_written()


@pytest.mark.django_db
def test_an_upload_stopped_at_its_limit_is_refused_as_too_large(security):
    """The upload handler keeps nothing past the limit: the registry import
    says the file is too large (not that it has no heading)."""
    from cloudjudge.web.registries.importing import import_registry

    stand_in = uploads.OversizedUpload("list.csv", "text/csv", 30 * 1024 * 1024, None)
    result = import_registry("ismap", stand_in, security, filename="list.csv")
    (problem,) = result.problems
    assert problem.code == "too_large" and "30 MB、上限 20 MB" in problem.message
    assert _nothing_written()
