"""The authorisation matrix: every role × every URL × the methods that matter.

The URLs are generated from the URL configuration (``get_resolver()``, walked
recursively), so a new view cannot be forgotten: a URL name (or an unnamed
route) without an entry in :data:`EXPECTATIONS` fails the test, listed by
name. Object IDs in URLs are those of real fixture objects: an application
of the applicant's own department and one of another department, their
checklist rows, judgements, evidence files, questionnaire imports, exit
steps, registry rows and admin-site objects, and mixtures of the two (an own
application's URL with another department's row ID) to catch IDOR.

Roles: ``anonymous``, ``applicant`` (of the own department), ``outsider``
(an applicant of another department), ``security``, ``ciso``, ``auditor``,
``admin`` (the system administrator as ``createuser`` makes one: staff, with
the user/department/device/lockout permissions). Users whose role requires a
second factor are logged in with a verified TOTP device (``conftest.login``);
``test_an_unverified_session_reaches_nothing`` covers sessions that have not
passed it. API endpoints (``/api/v1/``) are called with each role's bearer
token. Every request runs in a savepoint that is rolled back, so one check's
writes never change another's outcome.

Outcomes: a status code, ``LOGIN`` (302 to the login page), ``ADMIN_LOGIN``
(302 to the admin site's login) or ``REDIRECT`` (a 302/303 elsewhere: done,
then sent on). Pages listing applications must also not contain another
department's application (``hides``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cloudjudge.web.accounts.models import Role

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "applicant", "outsider", "security", "ciso", "auditor", "admin")
LOGIN, ADMIN_LOGIN, REDIRECT = "login", "admin-login", "redirect"
MISSING_ID = 987654

Outcome = int | str


def who(default: Outcome, *, anonymous: Outcome = LOGIN, **roles: Outcome) -> dict[str, Outcome]:
    """Every logged-in role gets ``default`` unless named; anonymous users the login page."""
    unknown = set(roles) - set(ROLES)
    assert not unknown, unknown
    return {"anonymous": anonymous, **dict.fromkeys(ROLES[1:], default), **roles}


def swapped(expect: dict[str, Outcome]) -> dict[str, Outcome]:
    """The same expectations for the other department's object."""
    return {**expect, "applicant": expect["outsider"], "outsider": expect["applicant"]}


@dataclass
class Case:
    """One request: ``kwargs`` name fixture objects (see ``objects``)."""

    expect: dict[str, Outcome]
    method: str = "get"
    kwargs: dict[str, str] = field(default_factory=dict)
    data: Any = None
    query: str = ""
    #: ``session`` (a logged-in browser), ``token`` (``Authorization: Bearer``,
    #: a JSON body) or ``multipart`` (a bearer token and a form with files).
    auth: str = "session"
    #: role → object name whose text must not appear in the response.
    hides: dict[str, str] = field(default_factory=dict)
    #: a literal path (with ``{name}`` placeholders) for unnamed routes.
    path: str = ""


def get(expect, **kw) -> Case:
    return Case(expect, "get", **kw)


def post(expect, **kw) -> Case:
    return Case(expect, "post", **kw)


def own_and_other(
    method: str,
    expect: dict[str, Outcome],
    *,
    data: Any = None,
    auth: str = "session",
    missing: Outcome = 404,
    **kwargs: str,
) -> list[Case]:
    """The case for the own department's objects (``kwargs`` values name them
    without a prefix: ``{"pk": "app"}`` → ``own_app``; ``=`` starts a literal),
    its mirror for the other department's, and the same URL with IDs that do
    not exist (``missing`` for every logged-in role)."""
    own = {k: f"own_{v}" if not v.startswith("=") else v[1:] for k, v in kwargs.items()}
    other = {k: f"other_{v}" if not v.startswith("=") else v[1:] for k, v in kwargs.items()}
    absent = {k: "missing" if not v.startswith("=") else v[1:] for k, v in kwargs.items()}
    gone = who(missing, anonymous=expect["anonymous"])
    return [
        Case(expect, method, own, data, auth=auth),
        Case(swapped(expect), method, other, data, auth=auth),
        Case(gone, method, absent, data, auth=auth),
    ]


def mixed(method: str, anonymous: Outcome = LOGIN, **kwargs: str) -> Case:
    """An own application's URL with another department's row ID (IDOR): 404 for all."""
    return Case(who(404, anonymous=anonymous), method, kwargs)


# --------------------------------------------------------------------------- expectations

#: Reading an application of the own department: everyone who sees it.
SEES_OWN = who(200, outsider=404)
#: Only the department's applicants change the facts (while draft or returned).
EDITS_OWN = who(403, applicant=200, outsider=404)
#: Checklist rows and evidence: the department and the security office.
WORKS_OWN = who(403, applicant=200, security=200, outsider=404)
APPLICANTS = who(403, applicant=200, outsider=200)
REVIEWERS = who(403, security=200, ciso=200)
NOT_APPLICANTS = who(200, applicant=403, outsider=403)
SECURITY_ONLY = who(403, security=200)
EVERYONE = who(200)
POST_ONLY = who(405)

API_EVERYONE = who(200, anonymous=401)
API_SEES_OWN = who(200, outsider=404, anonymous=401)
API_NOT_APPLICANTS = who(200, applicant=403, outsider=403, anonymous=401)

APPLICATION_BODY = {
    "purpose": "API から作る申請",
    "confidentiality": "2",
    "method": "internet_pc",
    "service": {"name": "API で追加するサービス", "provider": "検証株式会社"},
}
JUDGE_BODY = {
    "service": {"name": "クラウド型グループウェア", "listings": ["ismap"]},
    "data": {"confidentiality": "3B", "my_number": False},
    "connection": {"method": "local_breakout", "breakout_usage": "file_import"},
}


ISMAP_LIST = (
    "登録番号,クラウドサービスの名称,事業者,監査対象期間の末日,更新申請中,取下げ・登録取消\r\n"
    "C98-0001-1,マトリクス検証クラウド,検証株式会社,2099/03/31,,\r\n"
    # The applications' own services stay listed: the import re-judges them.
    "C98-0002-1,市民課だけが使うクラウド,サンプル株式会社,2099/03/31,,\r\n"
    "C98-0003-1,税務課だけが使うクラウド,サンプル株式会社,2099/03/31,,\r\n"
).encode()


def pdf_upload() -> dict[str, Any]:
    return {"file": SimpleUploadedFile("証明書.pdf", b"%PDF-1.4\n%matrix\n")}


def registry_upload() -> dict[str, Any]:
    return {"kind": "ismap", "file": SimpleUploadedFile("ismap.csv", ISMAP_LIST)}


EXPECTATIONS: dict[str, list[Case]] = {
    # ----------------------------------------------------------------- the register
    "register:dashboard": [get(EVERYONE)],
    "register:list": [
        get(EVERYONE, hides={"applicant": "other_text", "outsider": "own_text"}),
        get(EVERYONE, query="department=OTHER_DEPT", hides={"applicant": "other_text"}),
    ],
    "register:create": [get(APPLICANTS), post(APPLICANTS, data={})],
    "register:preview": [get(POST_ONLY), post(APPLICANTS, data={})],
    "documents:export_csv": [
        get(EVERYONE, hides={"applicant": "other_text", "outsider": "own_text"}),
        get(EVERYONE, query="department=OTHER_DEPT", hides={"applicant": "other_text"}),
    ],
    "documents:export_xlsx": [get(EVERYONE)],
    "documents:register_pdf": [get(EVERYONE)],
    "register:detail": own_and_other("get", SEES_OWN, pk="app"),
    "documents:checklist_xlsx": own_and_other("get", SEES_OWN, pk="app"),
    "documents:assessment_results": own_and_other("get", SEES_OWN, pk="app"),
    "register:edit": [
        *own_and_other("get", EDITS_OWN, pk="app"),
        *own_and_other("post", EDITS_OWN, pk="app", data={}),
    ],
    # A draft: nobody may record a conditional approval yet (403), outside the scope 404.
    "register:conditional": [
        *own_and_other("get", who(403, outsider=404), pk="app"),
        *own_and_other("post", who(403, outsider=404), pk="app", data={}),
    ],
    "register:action": [
        *own_and_other("get", POST_ONLY, missing=405, pk="app"),
        *own_and_other(
            "post",
            who(403, applicant=REDIRECT, outsider=404),
            pk="app",
            data={"action": "submit"},
        ),
    ],
    "register:judgement": [
        *own_and_other("get", SEES_OWN, pk="app", judgement_pk="judgement"),
        mixed("get", pk="own_app", judgement_pk="other_judgement"),
    ],
    "register:checklist_item": [
        *own_and_other("get", SEES_OWN, pk="app", item_pk="item"),
        *own_and_other("post", WORKS_OWN, pk="app", item_pk="item", data={}),
        mixed("get", pk="own_app", item_pk="other_item"),
        mixed("post", pk="own_app", item_pk="other_item"),
    ],
    "register:checklist_row": [
        *own_and_other("get", POST_ONLY, missing=405, pk="app", item_pk="item"),
        *own_and_other("post", WORKS_OWN, pk="app", item_pk="item", data={}),
        mixed("post", pk="own_app", item_pk="other_item"),
    ],
    "register:checklist_bulk": [
        *own_and_other("get", POST_ONLY, missing=405, pk="app"),
        *own_and_other("post", WORKS_OWN, pk="app", data={}),
    ],
    "register:service_status": [get(APPLICANTS), post(POST_ONLY)],
    # Criteria revisions: readers are the reviewers, the auditor and the admin;
    # without a version named the pages answer 404 to them.
    "register:versions": [get(NOT_APPLICANTS)],
    "register:catalog_diff": [get(who(404, applicant=403, outsider=403))],
    "register:rejudge": [get(who(404, applicant=403, outsider=403))],
    "register:rejudge_apply": [get(POST_ONLY), post(who(403, security=404), data={})],
    "documents:rejudge_export": [
        get(who(404, applicant=403, outsider=403), kwargs={"fmt": "csv"}),
    ],
    "register:evidence_upload": [
        *own_and_other("get", POST_ONLY, missing=405, pk="app", item_pk="item"),
        *own_and_other(
            "post",
            who(403, applicant=REDIRECT, security=REDIRECT, outsider=404),
            pk="app",
            item_pk="item",
            data=pdf_upload,
        ),
        mixed("post", pk="own_app", item_pk="other_item"),
    ],
    "register:exit_step": [
        *own_and_other("get", POST_ONLY, missing=405, pk="ending", step="=EXIT-1"),
        *own_and_other(
            "post",
            who(403, applicant=REDIRECT, security=REDIRECT, outsider=404),
            pk="ending",
            step="=EXIT-1",
            data={"note": "データ移行済み"},
        ),
    ],
    "register:evidence_download": own_and_other("get", SEES_OWN, pk="evidence"),
    "register:reviews": [get(REVIEWERS)],
    "register:catalog": [get(EVERYONE)],
    "documents:questionnaire_download": own_and_other("get", SEES_OWN, pk="app"),
    "questionnaires:import": [
        *own_and_other("get", SEES_OWN, pk="app"),
        *own_and_other(
            "post", who(403, applicant=400, security=400, outsider=404), pk="app", data={}
        ),
    ],
    "questionnaires:review": [
        *own_and_other("get", SEES_OWN, pk="app", imp="import"),
        *own_and_other(
            "post", who(403, security=REDIRECT, outsider=404), pk="app", imp="import", data={}
        ),
        mixed("get", pk="own_app", imp="other_import"),
    ],
    "questionnaires:workbook": [
        *own_and_other("get", SEES_OWN, pk="app", imp="import"),
        mixed("get", pk="own_app", imp="other_import"),
    ],
    "documents:procurement": [
        *own_and_other("get", SEES_OWN, pk="app", fmt="=md"),
        *own_and_other("get", SEES_OWN, pk="app", fmt="=docx"),
        Case(who(404), kwargs={"pk": "own_app", "fmt": "exe"}),
    ],
    "documents:report_pdf": own_and_other("get", SEES_OWN, pk="app"),
    "documents:catalog_procurement": [
        get(EVERYONE, kwargs={"fmt": "md"}),
        get(who(404), kwargs={"fmt": "html"}),
    ],
    # ----------------------------------------------------------------- accounts
    "login": [
        get(who(REDIRECT, anonymous=200)),
        post(who(REDIRECT, anonymous=200), data={"username": "nobody", "password": "wrong"}),
    ],
    # Logging out is a POST, sent on to the login page.
    "logout": [get(who(405)), post(who(LOGIN))],
    # Not found unless OpenID Connect is configured (tests/web/accounts/test_oidc.py).
    "oidc_login": [get(who(404, anonymous=404))],
    "oidc_callback": [get(who(404, anonymous=404))],
    "password_change": [get(EVERYONE), post(EVERYONE, data={})],
    "account_settings": [get(EVERYONE)],
    "otp_verify": [get(who(REDIRECT)), post(who(REDIRECT), data={})],
    "otp_setup": [get(EVERYONE), post(EVERYONE, data={})],
    "otp_recovery_codes": [get(who(REDIRECT))],
    "otp_recovery_regenerate": [get(POST_ONLY), post(who(REDIRECT))],
    "otp_disable": [get(POST_ONLY), post(who(REDIRECT))],
    "set_language": [
        post(who(REDIRECT, anonymous=REDIRECT), data={"language": "ja", "next": "/"}),
    ],
    # ----------------------------------------------------------------- the audit log
    "audit:list": [get(NOT_APPLICANTS)],
    "audit:export_csv": [get(NOT_APPLICANTS)],
    "audit:export_jsonl": [get(NOT_APPLICANTS)],
    # ----------------------------------------------------------------- registries
    "registries:list": [get(NOT_APPLICANTS)],
    "registries:entry": [
        get(NOT_APPLICANTS, kwargs={"pk": "entry"}),
        get(who(404, applicant=403, outsider=403), kwargs={"pk": "missing"}),
    ],
    "registries:entry_create": [get(SECURITY_ONLY), post(SECURITY_ONLY, data={})],
    "registries:entry_edit": [
        get(SECURITY_ONLY, kwargs={"pk": "entry"}),
        post(SECURITY_ONLY, kwargs={"pk": "entry"}, data={}),
    ],
    "registries:import": [get(SECURITY_ONLY), post(SECURITY_ONLY, data={})],
    "registries:template": [
        get(NOT_APPLICANTS, kwargs={"kind": "ismap"}),
        get(who(404, applicant=403, outsider=403), kwargs={"kind": "other"}),
    ],
    "registries:snapshots": [get(NOT_APPLICANTS)],
    "registries:snapshot": [get(NOT_APPLICANTS, kwargs={"pk": "snapshot"})],
    "registries:check": [get(NOT_APPLICANTS)],
    "registries:service": [
        get(NOT_APPLICANTS, kwargs={"pk": "own_service"}),
        post(who(403, security=200), kwargs={"pk": "own_service"}, data={}),
    ],
    "registries:relinks": [get(NOT_APPLICANTS)],
    "registries:relink_decide": [
        get(POST_ONLY, kwargs={"pk": "missing"}),
        post(who(403, security=404), kwargs={"pk": "missing"}),
    ],
    "registries:rejudge": [
        get(POST_ONLY, kwargs={"pk": "own_app"}),
        post(who(403, security=REDIRECT), kwargs={"pk": "own_app"}),
        post(who(403, security=404), kwargs={"pk": "missing"}),
    ],
    # ----------------------------------------------------------------- the API
    "api:api-root": [get(who(404, anonymous=404), auth="token")],
    "api:not-found": [  # any other path, a non-integer ID included: the API's JSON 404
        get(who(404, anonymous=404), kwargs={"rest": "=applications/abc"}, auth="token"),
        post(who(404, anonymous=404), kwargs={"rest": "=nothing"}, auth="token"),
    ],
    "api:openapi-json": [get(API_EVERYONE, auth="token")],
    "api:openapi-view": [get(EVERYONE)],  # the docs page, for people: a session
    "api:me": [get(API_EVERYONE, auth="token")],
    "api:judge": [post(API_EVERYONE, data=JUDGE_BODY, auth="token")],
    "api:list_applications": [
        get(
            API_EVERYONE,
            auth="token",
            hides={"applicant": "other_text", "outsider": "own_text"},
        )
    ],
    "api:create_application": [
        post(
            who(403, applicant=201, outsider=201, anonymous=401),
            data=APPLICATION_BODY,
            auth="token",
        ),
    ],
    "api:get_application_detail": own_and_other(
        "get", API_SEES_OWN, application_id="app", auth="token"
    ),
    "api:update_application": own_and_other(
        "patch",
        who(403, applicant=200, outsider=404, anonymous=401),
        application_id="app",
        data={"purpose": "API で変更した目的"},
        auth="token",
    ),
    "api:list_judgements": own_and_other("get", API_SEES_OWN, application_id="app", auth="token"),
    "api:get_checklist": own_and_other("get", API_SEES_OWN, application_id="app", auth="token"),
    "api:assessment_results": own_and_other(
        "get", API_SEES_OWN, application_id="app", auth="token"
    ),
    "api:get_checklist_item": [
        *own_and_other("get", API_SEES_OWN, application_id="app", item="item_code", auth="token"),
        Case(
            who(404, anonymous=401),
            kwargs={"application_id": "own_app", "item": "NO-SUCH"},
            auth="token",
        ),
    ],
    "api:update_checklist_item": own_and_other(
        "patch",
        who(403, applicant=200, security=200, outsider=404, anonymous=401),
        application_id="app",
        item="item_code",
        data={"note": "API で記録"},
        auth="token",
    ),
    "api:list_reviews": own_and_other("get", API_SEES_OWN, application_id="app", auth="token"),
    "api:take_action": own_and_other(
        "post",
        who(403, applicant=200, outsider=404, anonymous=401),
        application_id="app",
        data={"action": "submit"},
        auth="token",
    ),
    "api:conditional_approval": own_and_other(
        "post",
        who(403, outsider=404, anonymous=401),
        application_id="app",
        data={"rows": []},
        auth="token",
    ),
    "api:list_services": [get(API_EVERYONE, auth="token")],
    "api:registry_entries": [get(API_NOT_APPLICANTS, auth="token")],
    "api:registry_entry": [
        get(API_NOT_APPLICANTS, kwargs={"pk": "entry"}, auth="token"),
        get(
            who(404, applicant=403, outsider=403, anonymous=401),
            kwargs={"pk": "missing"},
            auth="token",
        ),
    ],
    # Multipart (kind + file): the same list again, so nothing changes (200).
    "api:registry_import": [
        post(who(403, security=200, anonymous=401), data=registry_upload, auth="multipart"),
    ],
    "api:registry_snapshots": [get(API_NOT_APPLICANTS, auth="token")],
    "api:registry_diff": [get(API_NOT_APPLICANTS, auth="token")],
    # Open to everyone, about the applications each may see.
    "api:registry_check": [get(API_EVERYONE, auth="token")],
}

# --------------------------------------------------------------------------- the admin site

#: What the system administrator may do with each model registered in the
#: admin site (the permissions ``createuser --role admin`` grants), and what
#: the admin site itself allows beyond permissions (read-only admins).
ADMIN_MODELS: dict[str, set[str]] = {
    "auth.group": set(),
    "accounts.department": {"view", "add", "change", "delete"},
    "accounts.user": {"view", "add", "change"},
    "register.service": set(),
    "registries.registrysnapshot": set(),
    "registries.registryentry": set(),
    "registries.registrylink": set(),
    "registries.listingcheck": set(),
    "api.apitoken": set(),
    "otp_totp.totpdevice": {"view", "delete"},
    "otp_static.staticdevice": {"view", "delete"},
    "axes.accessattempt": {"view", "delete"},
    "axes.accesslog": set(),
    "axes.accessfailurelog": set(),
}


#: Views of the admin site (not of a model), for the system administrator.
def staff(admin: Outcome) -> dict[str, Outcome]:
    """The models' admin views: the system administrator gets ``admin``; other
    logged-in users are sent to the admin site's login; anonymous users to the
    site's login page first (``LoginRequiredMiddleware``)."""
    return who(ADMIN_LOGIN, admin=admin)


def site(admin: Outcome) -> dict[str, Outcome]:
    """The admin site's own views send anonymous users to its login page too."""
    return who(ADMIN_LOGIN, admin=admin, anonymous=ADMIN_LOGIN)


ADMIN_SITE: dict[str, list[Case]] = {
    "admin:index": [get(site(200))],
    "admin:login": [get(who(200, admin=REDIRECT, anonymous=200))],
    # Not staff: sent to the admin index (and from there to the login).
    "admin:logout": [get(who(REDIRECT, admin=405, anonymous=ADMIN_LOGIN))],
    "admin:password_change": [get(site(200))],
    "admin:password_change_done": [get(site(200))],
    "admin:autocomplete": [get(site(403))],
    "admin:jsi18n": [get(site(200))],
    "admin:view_on_site": [
        get(
            site(404),
            kwargs={"content_type_id": "user_type", "object_id": "admin_user"},
        )
    ],
    "admin:app_list": [
        get(site(200), kwargs={"app_label": "=accounts"}),
        get(site(404), kwargs={"app_label": "=register"}),
    ],
    "admin:auth_user_password_change": [
        get(staff(200), kwargs={"id": "own_user"}),
    ],
    # Never a user's TOTP key or QR code, not even to the administrator
    # (OTP_ADMIN_HIDE_SENSITIVE_DATA): it would copy the second factor.
    "admin:otp_totp_totpdevice_config": [get(staff(403), kwargs={"pk": "totp"})],
    "admin:otp_totp_totpdevice_qrcode": [get(staff(403), kwargs={"pk": "totp"})],
    "admin:admin/(?P<url>.*)$": [
        get(site(404), path="/admin/no-such-page/"),
    ],
}


#: Secrets of another user that an admin page must never show (object names).
ADMIN_SECRETS = {
    "otp_totp.totpdevice": "totp_key",
    "otp_static.staticdevice": "static_token",
}


def admin_model_cases(label: str, allowed: set[str]) -> dict[str, list[Case]]:
    app, model = label.split(".")
    prefix = f"admin:{app}_{model}"
    obj = {"object_id": f"admin_obj:{label}"}
    hides = {"admin": ADMIN_SECRETS[label]} if label in ADMIN_SECRETS else {}

    def rule(needed: set[str]) -> dict[str, Outcome]:
        code = 200 if allowed & needed else 403
        return staff(code)

    return {
        f"{prefix}_changelist": [get(rule({"view", "change"}), hides=hides)],
        f"{prefix}_add": [get(rule({"add"})), post(rule({"add"}), data={})],
        f"{prefix}_change": [
            get(rule({"view", "change"}), kwargs=obj, hides=hides),
            post(rule({"change"}), kwargs=obj, data={}),
        ],
        f"{prefix}_delete": [get(rule({"delete"}), kwargs=obj), post(rule({"delete"}), kwargs=obj)],
        f"{prefix}_history": [get(rule({"view", "change"}), kwargs=obj)],
        # ``.../<id>/`` redirects to the change page (the admin site checks staff only).
        f"admin:admin/{app}/{model}/<path:object_id>/": [
            get(
                staff(REDIRECT),
                path=f"/admin/{app}/{model}/{{admin_obj:{label}}}/",
            )
        ],
    }


for _label, _allowed in ADMIN_MODELS.items():
    EXPECTATIONS.update(admin_model_cases(_label, _allowed))
EXPECTATIONS.update(ADMIN_SITE)


# --------------------------------------------------------------------------- the URL configuration


@dataclass(frozen=True)
class Route:
    key: str
    name: str | None
    route: str


def routes(patterns=None, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    """Every URL pattern, recursively; named ones keyed ``namespace:name``,
    unnamed ones ``namespace:full route``."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            key = name if pattern.name else f"{namespace}:{route}"
            yield Route(key, name if pattern.name else None, route)


def all_routes() -> dict[str, Route]:
    found: dict[str, Route] = {}
    for route in routes():
        found.setdefault(route.key, route)  # a name used twice: the first pattern answers
    return found


def test_every_url_has_an_expectation():
    found = all_routes()
    missing = sorted(set(found) - set(EXPECTATIONS))
    stale = sorted(set(EXPECTATIONS) - set(found))
    assert not missing, (
        "URL names without an entry in EXPECTATIONS (add who may use them): "
        + ", ".join(f"{key} (/{found[key].route})" for key in missing)
    )
    assert not stale, "EXPECTATIONS for URLs that no longer exist: " + ", ".join(stale)
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS), (
        f"models in the admin site: {sorted(registered)}; update ADMIN_MODELS"
    )


# --------------------------------------------------------------------------- fixture objects


def _item_of(application):
    return application.checklist_items.filter(active=True).order_by("position", "id").first()


def _questionnaire_import(client: Client, application, user):
    """An import of the application's own questionnaire, one row answered."""
    from openpyxl import load_workbook

    from cloudjudge.web.questionnaires import importing

    url = reverse("documents:questionnaire_download", args=[application.pk])
    response = client.get(url, {"due": "2099-12-31"})
    assert response.status_code == 200, response
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["回答"]
    sheet.cell(2, 4).value = "対応可"
    sheet.cell(2, 5).value = "対応済みです。"
    out = io.BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("回答.xlsx", out.getvalue())
    return importing.import_workbook(application, upload, user)


@pytest.fixture
def world(
    make_user,
    make_application,
    make_service,
    department,
    other_department,
    applicant,
    outsider,
    security,
    ciso,
    auditor,
    login,
):
    """The users, their sessions and tokens, and the objects the URLs point at."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.contenttypes.models import ContentType
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cloudjudge.web.accounts.roles import admin_permissions
    from cloudjudge.web.api.models import ApiToken
    from cloudjudge.web.register import evidence, workflow
    from cloudjudge.web.register.models import Service
    from cloudjudge.web.register.workflow import Step
    from cloudjudge.web.registries.entries import set_number
    from cloudjudge.web.registries.importing import import_registry
    from cloudjudge.web.registries.models import ListingCheck, RegistryEntry

    administrator = make_user(Role.ADMIN, is_staff=True)
    administrator.user_permissions.set(admin_permissions())
    users = {
        "applicant": applicant,
        "outsider": outsider,
        "security": security,
        "ciso": ciso,
        "auditor": auditor,
        "admin": administrator,
    }
    sessions = {}
    for role, user in users.items():
        client = login(user)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    tokens = {role: ApiToken.issue(user, name="matrix")[1] for role, user in users.items()}

    objects: dict[str, Any] = {"missing": MISSING_ID}
    for side, user, dept in (("own", applicant, department), ("other", outsider, other_department)):
        text = f"{dept.name}だけが使うクラウド"  # the service's name: on every listing
        app = make_application(user, service=make_service(name=text), purpose=f"{text}の利用")
        item = _item_of(app)
        proof = evidence.store(
            app, SimpleUploadedFile("proof.pdf", b"%PDF-1.4\n%proof\n"), user, checklist_item=item
        )
        ending = make_application(user, purpose=f"{dept.name}の終了する申請")
        workflow.perform(ending, Step.SUBMIT, user)
        workflow.perform(ending, Step.APPROVE, security)
        ending.refresh_from_db()
        if ending.needs_ciso_approval:
            workflow.perform(ending, Step.CISO_APPROVE, ciso)
        ending.checklist_items.update(status="done")  # 利用開始 needs them resolved
        workflow.perform(ending, Step.START_USE, user)
        workflow.perform(ending, Step.BEGIN_EXIT, user)
        objects.update(
            {
                f"{side}_app": app.pk,
                f"{side}_text": text,
                f"{side}_item": item.pk,
                f"{side}_item_code": item.item_id,
                f"{side}_judgement": app.latest_judgement_id,
                f"{side}_evidence": proof.pk,
                f"{side}_ending": ending.pk,
                f"{side}_service": app.service_id,
                f"{side}_user": user.pk,
                f"{side}_import": _questionnaire_import(login(user), app, user).pk,
            }
        )
    objects["OTHER_DEPT"] = other_department.pk

    result = import_registry("ismap", ISMAP_LIST, security, filename="ismap.csv")
    assert result.ok, result.message
    entry = RegistryEntry.objects.get(number="C98-0001-1")
    own_service = Service.objects.get(pk=objects["own_service"])
    link = set_number(own_service, "ismap", "C98-0001-1", security)
    check = ListingCheck.objects.first()
    assert check is not None  # made when an application is judged
    objects.update(entry=entry.pk, snapshot=result.snapshot.pk)

    group = Group.objects.create(name="matrix")
    # Another user's second factor: the security officer's app and recovery codes.
    totp = TOTPDevice.objects.filter(user=security).get()
    static = StaticDevice.objects.create(user=security, name="recovery", confirmed=True)
    static.token_set.create(token="matrixcode")
    attempt = AccessAttempt.objects.create(
        username="someone", ip_address="192.0.2.1", user_agent="x", failures_since_start=1
    )
    access_log = AccessLog.objects.create(username="someone", ip_address="192.0.2.1")
    failure_log = AccessFailureLog.objects.create(username="someone", ip_address="192.0.2.1")
    admin_objects = {
        "auth.group": group.pk,
        "accounts.department": department.pk,
        "accounts.user": applicant.pk,
        "register.service": objects["own_service"],
        "registries.registrysnapshot": result.snapshot.pk,
        "registries.registryentry": entry.pk,
        "registries.registrylink": link.pk,
        "registries.listingcheck": check.pk,
        "api.apitoken": ApiToken.objects.filter(user=applicant).first().pk,
        "otp_totp.totpdevice": totp.pk,
        "otp_static.staticdevice": static.pk,
        "axes.accessattempt": attempt.pk,
        "axes.accesslog": access_log.pk,
        "axes.accessfailurelog": failure_log.pk,
    }
    for label, pk in admin_objects.items():
        objects[f"admin_obj:{label}"] = pk
    objects.update(
        totp=totp.pk,
        totp_key=totp.key,
        static_token="matrixcode",
        user_type=ContentType.objects.get_for_model(administrator).pk,
        admin_user=administrator.pk,
    )
    return {"sessions": sessions, "tokens": tokens, "objects": objects}


# --------------------------------------------------------------------------- running a case


def _value(objects: dict[str, Any], name: str) -> Any:
    return name[1:] if name.startswith("=") else objects.get(name, name)


def url_for(route: Route, case: Case, objects: dict[str, Any]) -> str:
    if case.path:
        url = case.path
        for name, value in objects.items():
            url = url.replace("{" + name + "}", str(value))
    else:
        kwargs = {k: _value(objects, v) for k, v in case.kwargs.items()}
        url = reverse(route.name, kwargs=kwargs or None)
    if case.query:
        query = case.query
        for name, value in objects.items():
            query = query.replace(name, str(value))
        url = f"{url}?{query}"
    return url


def client_for(role: str, case: Case, world) -> Client:
    if role == "anonymous":
        return Client()
    if case.auth in {"token", "multipart"}:
        return Client(headers={"Authorization": f"Bearer {world['tokens'][role]}"})
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][role]
    return client


def send(client: Client, case: Case, url: str):
    data = case.data() if callable(case.data) else case.data
    if case.auth == "token" and case.method in {"post", "patch", "put"}:
        body = json.dumps(data if data is not None else {})
        return getattr(client, case.method)(url, body, content_type="application/json")
    if case.method == "get":
        return client.get(url)
    return getattr(client, case.method)(url, data or {})


def outcome_of(response) -> Outcome:
    if response.status_code in (301, 302, 303):
        location = response.get("Location", "")
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
        return REDIRECT
    return response.status_code


def _body(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    text = content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        # Japanese as itself, not \\u escapes.
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return text


def run(role: str, route: Route, case: Case, world) -> tuple[Outcome, str, str]:
    url = url_for(route, case, world["objects"])
    with transaction.atomic():
        response = send(client_for(role, case, world), case, url)
        leaked = ""
        secret = case.hides.get(role)
        if secret and response.status_code == 200:
            text = world["objects"][secret]
            if text in _body(response):
                leaked = f"shows {secret} ({text})"
        transaction.set_rollback(True)
    return outcome_of(response), leaked, response.get("Location", "")


def test_the_authorization_matrix(world):
    found = all_routes()
    failures: list[str] = []
    checked = 0
    for key, route in sorted(found.items()):
        cases = EXPECTATIONS.get(key)
        if cases is None:
            failures.append(f"{key}: no expectation (/{route.route})")
            continue
        for case in cases:
            for role in ROLES:
                expected = case.expect[role]
                got, leaked, location = run(role, route, case, world)
                checked += 1
                url = url_for(route, case, world["objects"])
                if got != expected:
                    failures.append(
                        f"{role:9} {case.method.upper():5} {url}  expected {expected}, got {got}"
                        f"{' ' + location if location else ''}  [{key}]"
                    )
                if leaked:
                    failures.append(f"{role:9} {case.method.upper():5} {url}  {leaked}  [{key}]")
    print(f"authorization matrix: {checked} requests, {len(found)} URL patterns")
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)


# --------------------------------------------------------------------------- no second factor yet

#: Pages a session that has not passed its second factor may still reach.
OPEN_BEFORE_SECOND_FACTOR = {
    "login",
    "logout",
    "set_language",
    "otp_verify",
    # The admin site's login form (its URL name is "login" too) and its logout,
    # which sends a user who is not staff to the admin index: nothing shown.
    "admin:login",
    "admin:logout",
}


def test_an_unverified_session_reaches_nothing(world, make_user):
    """A security officer who typed the password but not the TOTP code: every
    page sends them to the code page (and the admin site as well)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    officer = make_user(Role.SECURITY)
    TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    client = Client()
    client.force_login(officer)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    verify = reverse("otp_verify")
    failures = []
    for key, route in sorted(all_routes().items()):
        if key in OPEN_BEFORE_SECOND_FACTOR:
            continue
        for case in EXPECTATIONS.get(key, []):
            if case.auth != "session" or case.method != "get":
                continue
            url = url_for(route, case, world["objects"])
            with transaction.atomic():
                fresh = Client()
                fresh.cookies[settings.SESSION_COOKIE_NAME] = session
                response = fresh.get(url)
                transaction.set_rollback(True)
            location = response.get("Location", "")
            if response.status_code != 302 or not location.startswith(verify):
                failures.append(f"GET {url}: {response.status_code} {location}  [{key}]")
    assert not failures, "reachable without the second factor:\n" + "\n".join(failures)
