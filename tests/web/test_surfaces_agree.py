"""Every way in gives the same decision (hypothesis, issue #9).

For generated requests, ``cloudjudge judge --format json`` (the CLI, in this
process), ``cloudjudge.judge`` (the Python API), ``POST /api/v1/judgements``
and the web form's live preview (``register:preview``, the form filled in with
the same facts) return the same decision, ``remedies`` included.

The preview judges the facts as the form states them: the request's facts in
the engine's normal form (``parse_request``), with the service's listings as
the registry answers for a service not in the register (the declared ones,
unverified, when no public list is imported), and a local breakout usage
only with local breakout (the form clears it otherwise).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cloudjudge
from cloudjudge.engine import parse_request
from cloudjudge.web.api.models import ApiToken
from cloudjudge.web.register.models import Application
from engine.conftest import valid_requests
from test_cli import run

pytestmark = pytest.mark.django_db

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def form_data(request: dict[str, Any]) -> dict[str, Any]:
    """The application form filled in with the request's facts."""
    parsed = parse_request(request)
    facts = parsed.fact_values()
    data: dict[str, Any] = {
        "purpose": "生成された申請",
        "new_service-name": parsed.service.name,
        "new_service-provider": parsed.service.provider or "株式会社サンプル",
        "new_service-listings": sorted(facts["service.listings"]),
        "new_service-isms_certifications": sorted(facts["service.isms_certifications"]),
        "confidentiality": facts["data.confidentiality"],
        "method": facts["connection.method"],
        "breakout_usage": facts["connection.breakout_usage"] or "",
        "network": request["connection"].get("network") or "",
    }
    flags = {
        "new_service-security_update_service": "service.security_update_service",
        "my_number": "data.my_number",
        "administrative_documents": "data.administrative_documents",
        "critical_to_citizens": "data.critical_to_citizens",
        "internet_virtual_pc": "connection.internet_virtual_pc",
        "download_to_internet_terminal": "connection.download_to_internet_terminal",
        "download_by_contractor": "connection.download_by_contractor",
        "internet_only_function": "exceptions.internet_only_function",
        "limited_external_sharing": "exceptions.limited_external_sharing",
        "council_approved_legacy": "exceptions.council_approved_legacy",
    }
    for field, fact in flags.items():
        if facts[fact]:
            data[field] = "on"
    return data


@pytest.fixture
def clients(login, applicant):
    _, token = ApiToken.issue(applicant, name="test")
    return login(applicant), Client(headers={"Authorization": f"Bearer {token}"})


@SETTINGS
@given(data=st.data())
def test_cli_python_http_and_the_preview_give_the_same_decision(data, clients):
    web, api = clients
    request = data.draw(valid_requests())
    if data.draw(st.booleans(), label="a contractor downloads (ruling 3)"):
        request["connection"]["download_to_internet_terminal"] = True
        request["connection"]["download_by_contractor"] = True
    if request["connection"]["method"] != "local_breakout":
        # The form keeps a usage (表1) only with local breakout; a usage stated
        # with another method changes no verdict but lets a remedy switch to it.
        request["connection"].pop("breakout_usage", None)

    by_python = json.loads(json.dumps(cloudjudge.judge(request)))
    done = run("judge", "-", "--format", "json", stdin=json.dumps(request, ensure_ascii=False))
    assert done.returncode in (0, 1, 2), done.stderr
    by_cli = json.loads(done.stdout)
    response = api.post("/api/v1/judgements", json.dumps(request), content_type="application/json")
    assert response.status_code == 200, response.content
    by_http = response.json()
    preview = web.post(reverse("register:preview"), form_data(request))
    assert preview.status_code == 200
    assert preview.context["missing"] == [], preview.context["missing"]
    by_preview = json.loads(json.dumps(preview.context["decision"]))

    assert by_cli == by_python
    assert by_http == by_python
    assert by_preview == by_python
    if by_python["verdict"] == "prohibited":
        # The remedies reach the live panel too (or why there are none).
        text = preview.content.decode()
        assert all(r["message"] in text for r in by_python["remedies"])
    assert not Application.objects.exists()  # nothing kept
