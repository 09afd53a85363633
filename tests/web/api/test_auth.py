"""API tokens (stored hashed, revocable, issued by ``manage apitoken``) and
session authentication with CSRF."""

from __future__ import annotations

import io
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from cloudjudge.web.api.models import ApiToken, hash_token
from cloudjudge.web.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
JUDGE = "/api/v1/judgements"
BODY = json.dumps(
    {
        "service": {"name": "ウイルス定義ファイル配信", "security_update_service": True},
        "data": {"confidentiality": "2"},
        "connection": {"method": "local_breakout", "breakout_usage": "auth_only"},
    }
)


def bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def apitoken(*args) -> list[str]:
    out = io.StringIO()
    call_command("apitoken", *args, stdout=out)
    return out.getvalue().splitlines()


# --------------------------------------------------------------------------- tokens


def test_a_token_authenticates_its_user(applicant):
    _, token = ApiToken.issue(applicant)
    response = bearer(token).get(ME)
    assert response.status_code == 200
    me = response.json()
    assert (me["username"], me["role"], me["department"]["code"]) == (
        applicant.username,
        "applicant",
        "shimin",
    )
    assert me["read_only"] is False


def test_the_token_format(applicant):
    row, token = ApiToken.issue(applicant, "CI")
    assert token.startswith("cj_") and len(token) == 3 + 43
    assert row.prefix == token[:9]
    assert str(row) == f"CI ({row.prefix}…)"
    assert ApiToken.issue(applicant)[1] != token


def test_the_token_lookup_gives_what_the_orm_gives(applicant):
    """The lookup runs one hand-built statement (it is every API request's
    cost); its rows must be the ORM's, field for field, on either database."""
    row, token = ApiToken.issue(applicant, "連携システム")
    row.touch()
    found = ApiToken.lookup(token)
    expected = ApiToken.objects.select_related("user").get(pk=row.pk)
    for field in ApiToken._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    for field in type(applicant)._meta.concrete_fields:
        assert getattr(found.user, field.attname) == getattr(expected.user, field.attname), (
            field.name
        )
    assert found.user.department.code == "shimin"
    assert not found._state.adding and found.user._state.db == expected._state.db
    assert ApiToken.lookup(token + "x") is None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer ",
        "Bearer cj_not-a-token",
        "Bearer not-even-the-prefix",
        "Token cj_abc",
        "Basic YWxpY2U6cGFzc3dvcmQ=",
    ],
)
def test_without_a_valid_token_it_is_401(header, applicant):
    headers = {"Authorization": header} if header is not None else {}
    for method, url, body in (("get", ME, None), ("post", JUDGE, BODY)):
        client = Client(headers=headers)
        call = getattr(client, method)
        response = call(url, body, content_type="application/json") if body else call(url)
        assert response.status_code == 401, (header, url)
        assert response["WWW-Authenticate"].startswith("Bearer")
        detail = response.json()["detail"]
        assert "トークン" in detail or "Bearer" in detail


def test_the_login_page_is_not_where_a_program_is_sent(anonymous):
    response = anonymous.get("/api/v1/applications")
    assert response.status_code == 401  # not a 302 to the login page
    assert response.json()["code"] == "not_authenticated"


def test_a_revoked_token_is_401(applicant):
    row, token = ApiToken.issue(applicant)
    client = bearer(token)
    assert client.get(ME).status_code == 200
    row.revoke()
    response = client.get(ME)
    assert response.status_code == 401
    assert "失効" in response.json()["detail"]
    assert client.post(JUDGE, BODY, content_type="application/json").status_code == 401


def test_an_inactive_users_token_is_401(applicant):
    _, token = ApiToken.issue(applicant)
    applicant.is_active = False
    applicant.save()
    assert bearer(token).get(ME).status_code == 401


def test_a_bad_token_is_401_even_with_a_session(applicant, login):
    client = login(applicant)
    assert client.get(ME).status_code == 200
    response = client.get(ME, headers={"Authorization": "Bearer cj_wrong"})
    assert response.status_code == 401


def test_the_token_is_stored_only_as_its_hash(applicant):
    row, token = ApiToken.issue(applicant, "nightly export")
    assert bearer(token).get(ME).status_code == 200
    row.refresh_from_db()
    assert row.token_hash == hash_token(token) and len(row.token_hash) == 64
    assert token not in row.token_hash
    # Nowhere in the database: every text column of every table.
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            columns = [
                f.column
                for f in model._meta.concrete_fields
                if f.get_internal_type() in {"CharField", "TextField", "JSONField"}
            ]
            for column in columns:
                table = connection.ops.quote_name(model._meta.db_table)
                col = connection.ops.quote_name(column)
                cursor.execute(f"SELECT {col} FROM {table}")
                found += [
                    (model.__name__, column) for (v,) in cursor.fetchall() if v and token in str(v)
                ]
    assert found == []
    # The prefix is enough to tell tokens apart, far too little to use one.
    assert bearer(row.prefix).get(ME).status_code == 401


def test_last_used_is_recorded(applicant):
    row, token = ApiToken.issue(applicant)
    assert row.last_used_at is None
    bearer(token).get(ME)
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_the_token_user_is_the_actor_of_what_it_does(applicant, make_application):
    application = make_application()
    _, token = ApiToken.issue(applicant)
    response = bearer(token).post(
        f"/api/v1/applications/{application.pk}/actions",
        json.dumps({"action": "submit"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(action="state_change").latest("sequence")
    assert entry.actor == applicant and entry.source_ip == "127.0.0.1"


# --------------------------------------------------------------------------- manage apitoken


def test_the_command_prints_the_token_alone_on_the_last_line(applicant):
    lines = apitoken(applicant.username, "--name", "夜間の集計")
    token = lines[-1]
    assert token.startswith("cj_") and token.strip() == token and " " not in token
    assert any("一度だけ" in line for line in lines[:-1])
    row = ApiToken.objects.get()
    assert (row.user, row.name, row.token_hash) == (applicant, "夜間の集計", hash_token(token))
    assert bearer(token).get(ME).json()["username"] == applicant.username
    entry = AuditEntry.objects.filter(action="create", object_type="api.apitoken").get()
    assert token not in json.dumps([entry.after, entry.extra, entry.object_repr])


def test_the_command_lists_and_revokes(applicant):
    token = apitoken(applicant.username)[-1]
    row = ApiToken.objects.get()
    listing = "\n".join(apitoken(applicant.username, "--list"))
    assert row.prefix in listing and "有効" in listing and token not in listing
    assert "失効させました" in apitoken(applicant.username, "--revoke", row.prefix)[-1]
    assert bearer(token).get(ME).status_code == 401
    assert "失効" in "\n".join(apitoken(applicant.username, "--list"))
    with pytest.raises(CommandError, match="有効なトークンはありません"):
        apitoken(applicant.username, "--revoke", row.prefix)


def test_the_command_refuses_unknown_and_inactive_users(applicant):
    with pytest.raises(CommandError, match="いません"):
        apitoken("nobody")
    applicant.is_active = False
    applicant.save()
    with pytest.raises(CommandError, match="無効"):
        apitoken(applicant.username)
    assert not ApiToken.objects.exists()


# --------------------------------------------------------------------------- sessions


def test_a_logged_in_session_may_read(login, auditor):
    response = login(auditor).get(ME)
    assert response.status_code == 200
    assert response.json()["read_only"] is True


def test_a_session_needs_the_csrf_token_to_write(applicant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(applicant)
    refused = client.post(JUDGE, BODY, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    # The token the docs page sends, from any page of the UI.
    client.get(reverse("register:dashboard"))
    csrf = client.cookies["csrftoken"].value
    allowed = client.post(
        JUDGE, BODY, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert allowed.status_code == 200


def test_an_anonymous_write_is_401_not_a_csrf_error():
    response = Client(enforce_csrf_checks=True).post(JUDGE, BODY, content_type="application/json")
    assert response.status_code == 401


def test_a_token_needs_no_csrf_token(applicant):
    _, token = ApiToken.issue(applicant)
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})
    assert client.post(JUDGE, BODY, content_type="application/json").status_code == 200


def test_a_session_still_owing_its_second_factor_is_not_accepted(ciso):
    # A CISO must pass a second factor; a password-only session has not.
    client = Client()
    client.force_login(ciso)
    response = client.get(ME)
    assert response.status_code in {302, 401}
