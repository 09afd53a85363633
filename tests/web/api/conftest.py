"""API clients: a Django test client that sends a user's API token."""

from __future__ import annotations

import pytest
from django.test import Client

from cloudjudge.web.api.models import ApiToken

# The public-list fixtures, shared with the registries tests (for test_registries.py).
from web.registries.conftest import fixture_path, load, put_in_use, today  # noqa: F401


@pytest.fixture
def api():
    """``api(user)``: a client authenticated with a fresh token of ``user``."""

    def client_for(user) -> Client:
        _, token = ApiToken.issue(user, name="test")
        return Client(headers={"Authorization": f"Bearer {token}"})

    return client_for


@pytest.fixture
def anonymous():
    return Client()
