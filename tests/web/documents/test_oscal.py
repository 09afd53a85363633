"""An application's latest judgement and checklist as OSCAL assessment-results:
the download on the application page and the API route give a document that
compliance-trestle's models accept, with the verdict, each engine finding and
each required measure's status."""

import json

import pytest
from django.urls import reverse
from trestle.oscal.assessment_results import AssessmentResults

from cloudjudge.web.audit.models import Action as AuditAction
from cloudjudge.web.audit.models import AuditEntry
from cloudjudge.web.register import checklist
from cloudjudge.web.register.models import ItemStatus

pytestmark = pytest.mark.django_db


def _ours(props, name):
    return [p["value"] for p in props if p["name"] == name]


def test_the_download_is_valid_oscal_with_the_verdict_and_checklist_status(
    login, make_application, applicant
):
    app = make_application()
    items = list(app.checklist_items.filter(active=True).order_by("position"))
    assert len(items) >= 2
    checklist.update_item(items[0], applicant, status=ItemStatus.DONE)
    checklist.update_item(items[1], applicant, status=ItemStatus.IN_PROGRESS)
    response = login(applicant).get(reverse("documents:assessment_results", args=[app.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert f'filename="assessment-results_{app.number}.json"' in response["Content-Disposition"]
    document = json.loads(response.content)
    model = AssessmentResults.model_validate(document["assessment-results"])
    (result,) = model.results
    judgement = app.latest_judgement
    raw = document["assessment-results"]["results"][0]
    assert _ours(raw["props"], "verdict") == [judgement.verdict]
    assert _ours(raw["props"], "criteria-version") == [judgement.criteria_version]
    findings = {f["title"].split()[0]: f for f in raw["findings"]}
    assert list(findings) == [i.item_id for i in items]
    assert findings[items[0].item_id]["target"]["status"]["state"] == "satisfied"
    assert findings[items[1].item_id]["target"]["status"]["state"] == "not-satisfied"
    assert _ours(findings[items[1].item_id]["props"], "checklist-status") == ["in_progress"]
    assert findings[items[0].item_id]["target"]["target-id"] == f"{items[0].item_id}_smt"
    rules = [o["props"][0]["value"] for o in raw["observations"]]
    assert rules == [f["rule"] for f in judgement.decision["findings"]]
    assert len(result.findings) == len(items)


def test_the_download_is_an_audited_export(login, make_application, applicant):
    app = make_application()
    login(applicant).get(reverse("documents:assessment_results", args=[app.pk]))
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert entry.extra["kind"] == "oscal_assessment_results"


def test_a_prohibited_application_has_no_findings_but_its_prohibitions(
    login, make_application, applicant
):
    app = make_application(confidentiality="3A")
    assert app.verdict == "prohibited"
    response = login(applicant).get(reverse("documents:assessment_results", args=[app.pk]))
    document = json.loads(response.content)
    AssessmentResults.model_validate(document["assessment-results"])
    raw = document["assessment-results"]["results"][0]
    assert "findings" not in raw
    assert raw["reviewed-controls"]["control-selections"] == [{"include-all": {}}]
    assert [o["props"][1]["value"] for o in raw["observations"]] == ["prohibit"]


def test_the_download_is_permission_checked_and_linked_from_the_page(
    login, make_application, applicant, outsider, auditor
):
    app = make_application()
    url = reverse("documents:assessment_results", args=[app.pk])
    assert login(outsider).get(url).status_code == 404
    assert login(auditor).get(url).status_code == 200
    page = login(applicant).get(reverse("register:detail", args=[app.pk])).content.decode()
    assert f'href="{url}"' in page
    assert "判定と対策の状況（OSCAL JSON）" in page
