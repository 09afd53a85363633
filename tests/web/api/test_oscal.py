"""``GET /api/v1/applications/{id}/assessment-results``: the OSCAL document of the
application page's download, for other compliance tools."""

import pytest
from trestle.oscal.assessment_results import AssessmentResults

pytestmark = pytest.mark.django_db


def test_the_api_route_gives_the_same_document(api, make_application, applicant, outsider):
    app = make_application()
    url = f"/api/v1/applications/{app.pk}/assessment-results"
    response = api(applicant).get(url)
    assert response.status_code == 200
    document = response.json()
    AssessmentResults.model_validate(document["assessment-results"])
    raw = document["assessment-results"]["results"][0]
    assert [p["value"] for p in raw["props"] if p["name"] == "application-number"] == [app.number]
    assert api(outsider).get(url).status_code == 404
    assert api(applicant).get("/api/v1/applications/999999/assessment-results").status_code == 404
