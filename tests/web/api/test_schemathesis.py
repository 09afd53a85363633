"""schemathesis against the API's own OpenAPI document (issue 14): requests
generated from ``/api/v1/openapi.json`` for every operation, sent in-process to
the WSGI application with the API token of a user of each role. No answer may
be a 500, and every answer must match what the document says of it: its status
code, content type, headers and body schema (schemathesis' checks, all but
``ignored_auth``: it replays a request without the security schemes it knows,
and the token here is a header it does not know of; that every operation
refuses a missing or wrong token is proven by ``test_auth.py`` and the
authorization matrix).

Bounded so that it runs in ``make test``: ``MAX_EXAMPLES`` examples an
operation, each sent with every role's token.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth

from cloudjudge.web.accounts.models import Role
from cloudjudge.web.api.models import ApiToken
from support import jsonschema_compat

jsonschema_compat.install()

MAX_EXAMPLES = 12
ROLES = [role for role, _ in Role.choices]


@pytest.fixture
def tokens(make_user, department):
    """A token for a user of each role."""
    found = {}
    for role in ROLES:
        user = make_user(role, department if role == Role.APPLICANT else None)
        found[role] = ApiToken.issue(user, name="schemathesis")[1]
    return found


@pytest.fixture
def api_schema(db, api, applicant):
    document = api(applicant).get("/api/v1/openapi.json").json()
    return schemathesis.from_dict(document, app=get_wsgi_application())


@pytest.fixture
def wsgi():
    """The WSGI handler closes the database connection when a request starts
    and finishes; inside a test's transaction it must not (as Django's test
    client does). SQLite's in-memory test database ignores the close;
    PostgreSQL's does not."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# ninja writes OpenAPI 3.1, which schemathesis 3.39 reads behind this switch.
schemathesis.experimental.OPEN_API_3_1.enable()
schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_matches_the_document(case, tokens, wsgi):
    for role, token in tokens.items():
        response = case.call_wsgi(headers={"Authorization": f"Bearer {token}"})
        assert response.status_code != 500, (role, response.get_data(as_text=True)[:500])
        case.validate_response(response, excluded_checks=(ignored_auth,))


@pytest.fixture(autouse=True)
def _applications(make_application):
    """A few applications of the applicant's department, so that some
    generated IDs find something."""
    for _ in range(3):
        make_application()
