"""Who may see and change what, per view: other departments' objects are
404 (no IDOR), read-only roles get 403 on every change, and every page needs
a login."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cloudjudge.web.register import evidence, permissions, workflow
from cloudjudge.web.register.models import Application, Status
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(make_application):
    return make_application()


@pytest.fixture
def proof(app, applicant):
    row = app.checklist_items.first()
    upload = SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof")
    return evidence.store(app, upload, applicant, checklist_item=row)


def object_urls(app, proof):
    row = proof.checklist_item
    return [
        reverse("register:detail", args=[app.pk]),
        reverse("register:edit", args=[app.pk]),
        reverse("register:judgement", args=[app.pk, app.latest_judgement_id]),
        reverse("register:checklist_item", args=[app.pk, row.pk]),
        reverse("register:evidence_download", args=[proof.pk]),
    ]


def post_urls(app, proof):
    row = proof.checklist_item
    return [
        (reverse("register:edit", args=[app.pk]), {"purpose": "x"}),
        (reverse("register:action", args=[app.pk]), {"action": "submit"}),
        (reverse("register:checklist_item", args=[app.pk, row.pk]), {"status": "done"}),
        (
            reverse("register:evidence_upload", args=[app.pk, row.pk]),
            {"file": SimpleUploadedFile("x.txt", b"x")},
        ),
        (reverse("register:exit_step", args=[app.pk, "EXIT-1"]), {"note": "x"}),
    ]


def test_anonymous_users_are_sent_to_login(client, app, proof):
    pages = [
        reverse("register:dashboard"),
        reverse("register:list"),
        reverse("register:create"),
        reverse("register:reviews"),
        reverse("register:catalog"),
        *object_urls(app, proof),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    response = client.post(reverse("register:preview"), {"method": "internet_pc"})
    assert response.status_code == 302
    assert client.get(reverse("login")).status_code == 200


def test_another_departments_applicant_gets_404_everywhere(login, outsider, app, proof):
    client = login(outsider)
    for url in object_urls(app, proof):
        assert client.get(url).status_code == 404, url
    for url, data in post_urls(app, proof):
        assert client.post(url, data).status_code == 404, url
    assert app.number not in client.get(reverse("register:list")).content.decode()
    assert client.get(reverse("register:dashboard")).context["board"].total == 0
    app.refresh_from_db()
    assert app.status == Status.DRAFT


def test_the_same_department_shares_its_applications(login, colleague, app, proof):
    client = login(colleague)
    for url in object_urls(app, proof):
        assert client.get(url).status_code == 200, url


def test_auditors_read_everything_and_change_nothing(login, auditor, app, proof):
    client = login(auditor)
    for url in object_urls(app, proof):
        expected = 403 if url.endswith("/edit/") else 200
        assert client.get(url).status_code == expected, url
    for url, data in post_urls(app, proof):
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("register:create")).status_code == 403
    assert client.post(reverse("register:preview"), {}).status_code == 403
    assert client.get(reverse("register:reviews")).status_code == 403
    page = client.get(reverse("register:checklist_item", args=[app.pk, proof.checklist_item_id]))
    assert b'type="file"' not in page.content  # no upload form offered
    app.refresh_from_db()
    assert app.status == Status.DRAFT and app.evidence.count() == 1


def test_the_administrator_approves_nothing(login, admin_user, applicant, app):
    workflow.perform(app, Step.SUBMIT, applicant)
    client = login(admin_user)
    assert client.get(reverse("register:detail", args=[app.pk])).status_code == 200
    for action in ("approve", "ciso_approve", "return", "reject"):
        response = client.post(
            reverse("register:action", args=[app.pk]), {"action": action, "comment": "x"}
        )
        assert response.status_code == 403, action
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED


def test_applicants_cannot_review(login, applicant, colleague, app):
    workflow.perform(app, Step.SUBMIT, applicant)
    client = login(colleague)
    response = client.post(reverse("register:action", args=[app.pk]), {"action": "approve"})
    assert response.status_code == 403
    assert client.get(reverse("register:reviews")).status_code == 403


def test_a_submitted_application_cannot_be_edited(login, applicant, app):
    workflow.perform(app, Step.SUBMIT, applicant)
    client = login(applicant)
    assert client.get(reverse("register:edit", args=[app.pk])).status_code == 403
    assert not permissions.can_edit_application(applicant, app)


def test_visible_applications_by_role(
    app, make_application, outsider, applicant, security, ciso, auditor, admin_user
):
    theirs = make_application(user=outsider)
    assert set(permissions.visible_applications(applicant)) == {app}
    assert set(permissions.visible_applications(outsider)) == {theirs}
    for user in (security, ciso, auditor, admin_user):
        assert set(permissions.visible_applications(user)) == {app, theirs}
    applicant.is_active = False
    assert not permissions.visible_applications(applicant).exists()
    assert Application.objects.count() == 2
