"""Evidence files: stored with size and SHA-256, served only as attachments to
users who may see the application, with the upload size limited."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cloudjudge.web.register.models import Evidence

pytestmark = pytest.mark.django_db

CONTENT = b"%PDF-1.4\n%" + "削除証明書\n".encode() * 100


@pytest.fixture
def app(make_application):
    return make_application()


def upload(client, app, name="証明書.pdf", content=CONTENT):
    row = app.checklist_items.first()
    url = reverse("register:evidence_upload", args=[app.pk, row.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, content)})


def test_upload_records_the_file_and_download_returns_it(login, applicant, app, settings):
    response = upload(login(applicant), app)
    assert response.status_code == 302
    item = Evidence.objects.get()
    assert (item.original_name, item.size) == ("証明書.pdf", len(CONTENT))
    assert item.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert item.uploaded_by == applicant
    assert item.file.name.startswith(f"evidence/{app.pk}/")
    assert "証明書" not in item.file.name and ".pdf" not in item.file.name
    assert (settings.MEDIA_ROOT / item.file.name).read_bytes() == CONTENT

    response = login(applicant).get(reverse("register:evidence_download", args=[item.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"  # sniffed from the content
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_download_is_permission_checked(login, applicant, outsider, security, auditor, app):
    upload(login(applicant), app)
    url = reverse("register:evidence_download", args=[Evidence.objects.get().pk])
    assert login(outsider).get(url).status_code == 404
    assert login(security).get(url).status_code == 200
    assert login(auditor).get(url).status_code == 200
    assert login(security).get(url + "x").status_code == 404
    assert (
        login(applicant).get(reverse("register:evidence_download", args=[999])).status_code == 404
    )


def test_upload_is_permission_checked(login, outsider, auditor, security, app):
    assert upload(login(outsider), app).status_code == 404
    assert upload(login(auditor), app).status_code == 403
    assert upload(login(security), app).status_code == 302  # the security office may add proof
    assert Evidence.objects.count() == 1


def test_upload_size_is_limited(login, applicant, app, settings):
    settings.CLOUDJUDGE_MAX_UPLOAD_BYTES = 1024
    client = login(applicant)
    response = upload(client, app, content=b"x" * 1025)
    assert response.status_code == 302
    assert Evidence.objects.count() == 0
    assert (
        "ファイルが上限（1.0\xa0KB）を超えています。"
        in client.get(response["Location"]).content.decode()
    )
    assert upload(client, app, content=b"%PDF-" + b"x" * 1019).status_code == 302
    assert Evidence.objects.count() == 1


def test_directory_parts_of_the_name_are_dropped(login, applicant, app):
    upload(login(applicant), app, name="../../etc/passwd.pdf")
    assert Evidence.objects.get().original_name == "passwd.pdf"


def test_exit_2_certificate_through_the_page(login, applicant, security, app):
    from cloudjudge.web.register import workflow
    from cloudjudge.web.register.workflow import Step

    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, security)
    app.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(app, Step.START_USE, applicant)
    workflow.perform(app, Step.BEGIN_EXIT, applicant)
    client = login(applicant)
    url = reverse("register:exit_step", args=[app.pk, "EXIT-2"])
    client.post(url, {"note": "no file"})
    assert not app.exit_steps.get(step="EXIT-2").done
    client.post(url, {"note": "受領", "certificate": SimpleUploadedFile("cert.pdf", CONTENT)})
    assert app.exit_steps.get(step="EXIT-2").done
    assert Evidence.objects.get().exit_step == "EXIT-2"
