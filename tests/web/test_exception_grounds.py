"""Claiming an exception ground of 3.1(1)(ウ)② needs its explanation (issue
11), for each of the three grounds, on the form and through the API alike:
refused naming the field, nothing written; with the explanation, saved."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from cloudjudge.web.api.models import ApiToken
from cloudjudge.web.register.forms import EXCEPTION_GROUNDS
from cloudjudge.web.register.models import Application

from .api.test_applications import LIST, NEW
from .test_views import form_data

pytestmark = pytest.mark.django_db
REASON = "当該機能はインターネット上でしか提供されないため"


@pytest.fixture
def api():
    def client_for(user) -> Client:
        _, token = ApiToken.issue(user, name="grounds")
        return Client(headers={"Authorization": f"Bearer {token}"})

    return client_for


@pytest.mark.parametrize("ground", EXCEPTION_GROUNDS)
def test_the_form_asks_for_the_explanation_of_each_ground(ground, login, applicant):
    client = login(applicant)
    data = form_data(method="internet_pc", breakout_usage="", exception_note="", **{ground: "on"})
    response = client.post(reverse("register:create"), data)
    assert response.status_code == 200 and not Application.objects.exists()
    assert "申し立てた例外の理由（" in response.content.decode()
    data["exception_note"] = REASON
    assert client.post(reverse("register:create"), data).status_code == 302
    app = Application.objects.get()
    assert getattr(app, ground) is True and app.exception_note == REASON


@pytest.mark.parametrize("ground", EXCEPTION_GROUNDS)
def test_the_api_asks_for_the_explanation_of_each_ground(ground, api, applicant):
    client = api(applicant)
    body = {**NEW, "method": "internet_pc", ground: True, "exception_note": ""}
    response = client.post(LIST, json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    assert "exception_note" in {
        ".".join(map(str, e["loc"][-1:])) for e in response.json()["detail"]
    }
    assert not Application.objects.exists()
    body["exception_note"] = REASON
    response = client.post(LIST, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert getattr(Application.objects.get(), ground) is True
