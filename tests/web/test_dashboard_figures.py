"""The dashboard's figures and the register list's count come from the shared
cache (issue 14: at the national size the whole register's counts take
seconds): reused while nothing changed, counted again as soon as an
application or a checklist row changes, and the page says when they were
counted."""

from __future__ import annotations

import pickle

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cloudjudge.web import figures
from cloudjudge.web.register import checklist, workflow
from cloudjudge.web.register.models import ItemStatus
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


def test_the_figures_are_reused_until_an_application_changes(login, security, make_application):
    make_application()
    client = login(security)
    first, counted = queries(client, reverse("register:dashboard"))
    assert first.context["board"].total == 1
    assert "集計" in first.content.decode() and "時点" in first.content.decode()
    again, reused = queries(client, reverse("register:dashboard"))
    assert again.context["board"].total == 1
    assert reused < counted  # from the cache, not counted again

    make_application()  # a new draft: the figures must show it at once
    fresh, _ = queries(client, reverse("register:dashboard"))
    assert fresh.context["board"].total == 2
    assert fresh.context["board"].status_totals == {"draft": 2}


def test_a_step_and_a_checklist_edit_show_at_once(login, security, applicant, make_application):
    application = make_application()
    client = login(security)
    assert client.get("/").context["board"].status_totals == {"draft": 1}
    workflow.perform(application, Step.SUBMIT, applicant)
    board = client.get("/").context["board"]
    assert board.status_totals == {"submitted": 1} and board.awaiting_count == 1

    item = application.checklist_items.filter(active=True).first()
    checklist.update_item(item, applicant, status=ItemStatus.IN_PROGRESS, due_date="2020-01-01")
    assert client.get("/").context["board"].overdue_count == 1


def test_a_rolled_back_change_leaves_the_figures_right(login, security, make_application):
    make_application()
    client = login(security)
    assert client.get("/").context["board"].total == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        make_application()
        raise RuntimeError("undone")
    assert client.get("/").context["board"].total == 1
    make_application()
    assert client.get("/").context["board"].total == 2


def test_the_register_list_count_follows_a_change(login, security, make_application):
    make_application()
    client = login(security)
    assert client.get(reverse("register:list")).context["total"] == 1
    assert client.get(reverse("register:list")).context["total"] == 1
    make_application()
    assert client.get(reverse("register:list")).context["total"] == 2
    assert client.get(reverse("register:list") + "?status=submitted").context["total"] == 0


def test_a_registry_alert_on_the_dashboard_lists_five_applications_and_how_many_more():
    """Nationally a service is in use by about a thousand applications: the
    dashboard's alert names five and says how many more (the check page, all)."""
    import datetime

    from django.template.loader import render_to_string

    from cloudjudge.web.registries.checking import Alert, CheckReport, DashboardAlerts
    from cloudjudge.web.registries.listings import KindCheck

    today = datetime.date(2026, 12, 3)
    check = KindCheck(kind="ismap", on=today, declared=True, loaded=True, status="expired")
    in_use = tuple((pk, f"CJ-N-{pk:07d}", "in_use") for pk in range(1, 1201))
    alert = Alert(
        service_id=1, service_name="Web 会議", provider="", check=check, applications=in_use
    )
    report = CheckReport(today=today, days=60, alerts=[alert])
    shown = DashboardAlerts.of(report)
    assert [pk for pk, _n, _s in shown.rows[0].applications] == [1, 2, 3, 4, 5]
    assert shown.rows[0].more == 1195
    html = render_to_string(
        "registries/_alerts_table.html",
        {"alerts": shown.rows, "link_services": False, "can_edit": False},
    )
    assert html.count("/applications/") == 5
    assert "ほか 1195 件" in html
    assert report.alerts[0].applications == in_use  # the report itself keeps them all


def test_the_cached_boards_hold_no_password_hash(login, security, applicant, make_application):
    """The boards are pickled into the shared cache table: the users they name
    (applicant, row owner) must not carry their password hashes there."""
    application = make_application()
    workflow.perform(application, Step.SUBMIT, applicant)
    item = application.checklist_items.filter(active=True).first()
    checklist.update_item(item, applicant, owner=security, due_date="2020-01-01")
    response = login(security).get(reverse("register:dashboard"))
    board, work = response.context["board"], response.context["work"]
    assert board.overdue and work.applications and work.items  # the users are in there
    cached = pickle.dumps(board) + pickle.dumps(work)
    for user in (applicant, security):
        user.refresh_from_db()
        assert user.password.encode() not in cached
    assert work.applications[0].applicant.get_full_name()  # names still shown


@pytest.fixture
def empty_cache():
    """Tests that commit leave their counts in the cache table (it is not a
    model's, so the flush after them keeps it): start and end without any."""
    cache.clear()
    yield
    cache.clear()


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database refuses a second connection's "
    "access to a table being written at once (no waiting, unlike the app's WAL file "
    "with its busy timeout): the background thread needs PostgreSQL here",
)
@pytest.mark.django_db(transaction=True)
def test_a_slow_count_is_shown_marked_while_it_is_counted_again(
    login, security, make_application, settings, empty_cache
):
    """At the national size a count of the whole register takes seconds and
    any change starts it again: the dashboard shows the previous figures,
    saying they are being counted again, while one background thread counts;
    the next page shows the new ones. (Every count is "slow" here.)"""
    settings.CLOUDJUDGE_RECOUNT_IN_BACKGROUND_AFTER = 0.0
    make_application()
    client = login(security)
    first = client.get("/")
    assert first.context["board"].total == 1 and not first.context["board"].recounting

    make_application()
    stale = client.get("/")
    assert stale.context["board"].total == 1 and stale.context["board"].recounting
    assert "集計し直しています" in stale.content.decode()

    figures.wait_for_recounts()
    fresh = client.get("/")
    assert fresh.context["board"].total == 2 and not fresh.context["board"].recounting
    assert fresh.context["board"].status_totals == {"draft": 2}
    assert "集計し直しています" not in fresh.content.decode()
    assert fresh.context["work"].application_count == 0  # the action list came along
