"""No N+1: the pages issue a number of queries that does not grow with rows.

``test_views.test_query_count_does_not_grow_with_rows`` covers the list, the
dashboard and the review queue for the security office over one department's
drafts and submissions. This module covers what that leaves out:

* a register spread over several departments, applicants, services and owners,
  in every stage (so the dashboard's "reviews due" table and the "in use"
  rows are filled too), seen by each role's scope (an applicant's department,
  the security office, the CISO's queue, an auditor);
* the application detail page, whose rows are the checklist and its evidence,
  the judgement history, the reviews and the status changes;
* the pages of a review queue longer than one page.

Each page is requested once with few rows and once with ten times as many,
with every kind of row already present in the small register, so a query
that appears only when a kind of row first appears is not mistaken for N+1.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cloudjudge.web.accounts.models import Department, Role
from cloudjudge.web.register import applications, checklist, evidence, workflow
from cloudjudge.web.register.models import Application, ItemStatus, Status
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db

#: Applications in the small register (every stage, kind of facts and department
#: appear in it) and in the large one.
FEW, MANY = 10, 50

#: Facts by index: permitted, permitted, CISO approval required, permitted (LGWAN-ASP).
FACTS = [
    {"confidentiality": "3B", "method": "local_breakout", "breakout_usage": "file_import"},
    {"confidentiality": "2", "method": "local_breakout", "breakout_usage": "no_file_import"},
    {
        "confidentiality": "3B",
        "method": "internet_pc",
        "breakout_usage": "",
        "limited_external_sharing": True,
        "exception_note": "外部との共有手段が限られるため。",
    },
    {"confidentiality": "3C", "method": "lgwan_asp", "breakout_usage": ""},
]
#: The stage each application reaches, by index (every stage in the first few).
STAGES = [Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.IN_USE, Status.RETURNED]


@pytest.fixture
def people(make_user, department, other_department):
    third = Department.objects.create(code="toshi", name="都市計画課")
    depts = [department, other_department, third]
    return {
        "applicants": [make_user(Role.APPLICANT, d, last_name=d.name) for d in depts],
        "security": make_user(Role.SECURITY),
        "ciso": make_user(Role.CISO),
        "auditor": make_user(Role.AUDITOR),
    }


@pytest.fixture
def populate(people, make_service):
    counter = itertools.count()
    security, ciso = people["security"], people["ciso"]
    today = timezone.localdate()

    def advance(app, applicant, stage):
        if stage == Status.DRAFT:
            return
        workflow.perform(app, Step.SUBMIT, applicant)
        if stage == Status.SUBMITTED:
            return
        if stage == Status.RETURNED:
            workflow.perform(app, Step.RETURN, security, "根拠を補足してください。")
            return
        workflow.perform(app, Step.APPROVE, security, "確認しました。")
        if app.needs_ciso_approval:
            workflow.perform(app, Step.CISO_APPROVE, ciso, "承認します。")
        if stage == Status.IN_USE:
            app.checklist_items.update(status="done")  # 利用開始 needs them resolved
            workflow.perform(app, Step.START_USE, applicant)
            # The yearly review falls due within the dashboard's 30 days.
            Application.objects.filter(pk=app.pk).update(
                review_due=today + datetime.timedelta(days=5 + app.pk % 20)
            )

    def make(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            applicant = people["applicants"][i % 3]
            facts = {"purpose": f"業務 {i}", **FACTS[i % len(FACTS)]}
            listings = ("lgwan_asp",) if facts["method"] == "lgwan_asp" else ("ismap",)
            service = make_service(
                name=f"サービス {i}", provider=f"事業者 {i % 7}", listings=listings
            )
            app = applications.create_application(applicant, service, **facts)
            rows = list(app.checklist_items.all()[:3])
            owner = [applicant, security][i % 2]
            checklist.update_item(
                rows[0],
                applicant,
                status=ItemStatus.IN_PROGRESS,
                owner=owner,
                due_date="2020-01-01",
            )
            checklist.update_item(rows[1], applicant, status=ItemStatus.DONE, owner=applicant)
            checklist.update_item(
                rows[2], applicant, status=ItemStatus.NOT_APPLICABLE, na_reason="対象外のため。"
            )
            upload = SimpleUploadedFile(f"確認資料-{i}.txt", "確認記録\n".encode())
            evidence.store(app, upload, owner, checklist_item=rows[1])
            advance(app, applicant, STAGES[i % len(STAGES)])

    return make


@pytest.fixture
def signed_in(login):
    """``login``, and past the second factor the reviewers' roles must pass."""

    def client_for(user):
        client = login(user)
        if apps.is_installed("django_otp.plugins.otp_totp"):
            from django_otp import DEVICE_ID_SESSION_KEY
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device = TOTPDevice.objects.create(user=user, name="query counts", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return client_for


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response


PAGES = [
    "/",
    "/applications/",
    "/applications/?sort=department",
    "/applications/?sort=-review_due&status=in_use",
    "/applications/?sort=service&verdict=approval_required&page=1",
]
REVIEWERS = ("security", "ciso")


def test_list_dashboard_and_queue_queries_do_not_grow_across_departments(
    people, populate, signed_in
):
    """Each role's scope: an applicant's department, the security office and
    the CISO (whose review queues differ) and an auditor (read only)."""
    clients = {
        "applicant": signed_in(people["applicants"][0]),
        **{who: signed_in(people[who]) for who in ("security", "ciso", "auditor")},
    }
    pages = [(who, url) for who in clients for url in PAGES]
    pages += [(who, "/reviews/") for who in REVIEWERS]

    populate(FEW)
    few = {(who, url): count_queries(clients[who], url)[0] for who, url in pages}
    populate(MANY - FEW)
    many = {}
    for who, url in pages:
        many[who, url], response = count_queries(clients[who], url)
        if url == "/":
            board = response.context["board"]
            assert board.reviews_due, "the reviews-due table must have rows to be tested"
            assert board.overdue, "the overdue table must have rows to be tested"
        elif url == "/reviews/":
            assert len(response.context["applications"]) >= MANY // len(STAGES)
        elif url == "/applications/" and who != "applicant":
            assert len(response.context["page"].object_list) == 25
    assert many == few


# --------------------------------------------------------------------------- detail page

#: Public information over LGWAN-ASP: about ten required measures.
SMALL = {"confidentiality": "1", "method": "lgwan_asp", "breakout_usage": ""}
#: Important information over local breakout: about fifty (B and C differ by a row,
#: so switching between them leaves a row "no longer required").
LARGE = {"confidentiality": "3B", "method": "local_breakout", "breakout_usage": "no_file_import"}
LARGE_AGAIN = {**LARGE, "breakout_usage": "file_import"}


def _evidence_on(app, rows, uploaders, per_row):
    for n, row in enumerate(rows):
        for k in range(per_row):
            upload = SimpleUploadedFile(f"資料-{n}-{k}.pdf", b"%PDF-1.4 evidence")
            evidence.store(app, upload, uploaders[(n + k) % len(uploaders)], checklist_item=row)


def _cycles(app, applicant, security, changes):
    """Return and resubmit once per change of the facts (each a new judgement)."""
    for k, facts in enumerate(changes):
        workflow.perform(app, Step.RETURN, security, f"差戻し {k}")
        applications.update_application(app, applicant, purpose=f"{app.purpose} 改訂 {k}", **facts)
        workflow.perform(app, Step.SUBMIT, applicant)


def test_detail_page_queries_do_not_grow_with_checklist_history_and_evidence(
    people, make_service, signed_in
):
    """Rows of the detail page: checklist rows (10 vs 46) with owners and
    evidence, retired rows, judgements, reviews and status changes."""
    applicant, security = people["applicants"][0], people["security"]
    uploaders = [applicant, security]
    service = make_service(listings=("lgwan_asp", "ismap"))

    def build(facts, per_row, changes):
        app = applications.create_application(applicant, service, purpose="比較用", **facts)
        items = list(app.checklist_items.all())
        for n, item in enumerate(items):
            checklist.update_item(
                item,
                applicant,
                status=[ItemStatus.IN_PROGRESS, ItemStatus.DONE][n % 2],
                owner=uploaders[n % 2],
                due_date=timezone.localdate(),
                note=f"メモ {n}",
            )
        _evidence_on(app, items, uploaders, per_row)
        workflow.perform(app, Step.SUBMIT, applicant)
        _cycles(app, applicant, security, changes)
        return app

    small = build(SMALL, per_row=1, changes=[{**SMALL, "critical_to_citizens": True}])
    large = build(LARGE, per_row=2, changes=[LARGE_AGAIN, LARGE] * 4 + [LARGE_AGAIN])
    assert large.checklist_items.count() > 3 * small.checklist_items.count()
    assert large.checklist_items.filter(active=False).exists()
    assert large.judgements.count() > small.judgements.count()
    for user in (security, applicant):
        client = signed_in(user)
        few, _ = count_queries(client, f"/applications/{small.pk}/")
        many, response = count_queries(client, f"/applications/{large.pk}/")
        assert len(response.context["history"]) > 15
        assert many == few, (user.role, few, many)


def test_detail_page_of_an_ending_service_does_not_grow_with_exit_files(
    people, make_service, signed_in
):
    applicant, security = people["applicants"][0], people["security"]
    service = make_service(listings=("lgwan_asp", "ismap"))

    def ending(facts, files):
        app = applications.create_application(applicant, service, purpose="終了手続", **facts)
        workflow.perform(app, Step.SUBMIT, applicant)
        workflow.perform(app, Step.APPROVE, security)
        app.checklist_items.update(status="done")  # 利用開始 needs them resolved
        workflow.perform(app, Step.START_USE, applicant)
        workflow.perform(app, Step.BEGIN_EXIT, applicant)
        for k in range(files):
            upload = SimpleUploadedFile(f"削除証明書-{k}.pdf", b"%PDF-1.4 certificate")
            evidence.store(app, upload, [applicant, security][k % 2], exit_step="EXIT-2")
        workflow.complete_exit_step(app, "EXIT-1", applicant, "移行済み")
        workflow.complete_exit_step(app, "EXIT-2", security, "受領")
        return app

    small, large = ending(SMALL, 1), ending(LARGE, 12)
    client = signed_in(applicant)
    few, _ = count_queries(client, f"/applications/{small.pk}/")
    many, response = count_queries(client, f"/applications/{large.pk}/")
    assert len(response.context["exit_evidence"]) == 12
    assert many == few


# --------------------------------------------------------------------------- review queue pages


def test_review_queue_pages_do_not_grow_with_the_queue(people, make_service, signed_in):
    """The queue is paginated like the register: a page of a long queue (full
    pages and the last, short one) costs what a queue of three does."""
    from cloudjudge.web.register.views import PAGE_SIZE

    applicant = people["applicants"][0]
    counter = itertools.count()

    def submit(n):
        for _ in range(n):
            i = next(counter)
            service = make_service(name=f"審査サービス {i}")
            app = applications.create_application(
                applicant, service, purpose=f"審査 {i}", **FACTS[i % len(FACTS)]
            )
            workflow.perform(app, Step.SUBMIT, applicant)

    clients = {who: signed_in(people[who]) for who in REVIEWERS}
    submit(3)
    few = {who: count_queries(clients[who], "/reviews/")[0] for who in REVIEWERS}
    submit(2 * PAGE_SIZE + 2)
    for who in REVIEWERS:
        for number, rows in ((1, PAGE_SIZE), (2, PAGE_SIZE), (3, 5)):
            many, response = count_queries(clients[who], f"/reviews/?page={number}")
            assert len(response.context["applications"]) == rows
            assert response.context["page"].paginator.count == 2 * PAGE_SIZE + 5
            assert many == few[who], (who, number, few[who], many)
