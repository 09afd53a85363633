"""The issue's key scenario: a service in use whose listing expires in a newer
snapshot turns into an alert (check and dashboard), and its next judgement no
longer counts the listing (permitted → prohibited for 3B data)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloudjudge.web.audit.models import AuditEntry
from cloudjudge.web.register.models import Judgement
from cloudjudge.web.registries import entries
from cloudjudge.web.registries.checking import check_in_use
from cloudjudge.web.registries.models import ListingCheck, ListingCheckError

from .conftest import audit_end_for_expiry, ismap_csv, lgwan_csv

DAY = datetime.timedelta(days=1)
NAME, PROVIDER = "さくらぎクラウド基盤", "株式会社桜木システムズ"


def listed(today, expiry, pending=False):
    return ismap_csv(("C21-0101-1", NAME, PROVIDER, audit_end_for_expiry(expiry), pending, 0))


def test_listing_expiring_in_a_newer_snapshot(
    load, make_service, make_application, applicant, security, put_in_use, login, today
):
    load("ismap", listed(today, today + 400 * DAY), filename="v1.csv")
    # the register writes the provider differently: still the same service
    service = make_service(name="さくらぎクラウド基盤", provider="桜木システムズ（株）")
    service.listings = ["ismap"]
    service.save()
    app = make_application(service=service)  # 3B, local breakout, files brought in
    assert app.verdict == "permitted"
    first = app.latest_judgement
    assert first.request["service"]["listings"] == ["ismap"]
    assert first.listing_check.findings == []
    put_in_use(app, applicant, security)
    assert check_in_use().ok

    # the newer list: the audit period is older, no renewal applied for → expired yesterday
    expiry = today - DAY
    load("ismap", listed(today, expiry), filename="v2.csv")

    report = check_in_use()
    (alert,) = report.alerts
    assert (alert.status, alert.kind, alert.entry.number) == ("expired", "ismap", "C21-0101-1")
    # The import judged the application again: no longer listed, a worse
    # verdict, so it waits for the security office's review.
    assert alert.applications == ((app.pk, app.number, "needs_review"),)
    assert alert.message == f"ISMAP: 有効期限切れ: {expiry.isoformat()}"
    app.refresh_from_db()
    assert app.status == "needs_review" and app.latest_judgement_id != first.pk
    detail = login(security).get(f"/applications/{app.pk}/").content.decode()
    assert "見直しが必要（判定が変わりました）" in detail
    assert "判定が変わりました：この申請は見直しが必要です" in detail

    page = login(security).get("/").content.decode()
    assert "登録簿の掲載に注意が必要な利用中サービス（1 件）" in page
    assert app.number in page and f"有効期限切れ: {expiry.isoformat()}" in page
    # the applicant's dashboard shows it for their own application too
    assert app.number in login(applicant).get("/").content.decode()

    # the next judgement no longer counts the listing
    judgement = entries.rejudge(app, security)
    app.refresh_from_db()
    assert judgement != first and app.latest_judgement == judgement
    assert app.verdict == "prohibited" and judgement.verdict == "prohibited"
    assert judgement.request["service"]["listings"] == []
    assert judgement.listing_check.checked_on == today
    assert judgement.listing_check.findings[0]["message"] == (
        f"申告された ISMAP 掲載は登録簿で確認できません（有効期限切れ: {expiry.isoformat()}）"
    )
    assert Judgement.objects.filter(application=app).count() == 2  # the first one is kept
    assert first.listing_check.findings == []  # and so is what the registry said then
    assert AuditEntry.objects.filter(
        object_type="register.application", extra__reason="registry_rejudge"
    ).exists()

    detail = login(applicant).get(f"/applications/{app.pk}/").content.decode()
    assert (
        f"申告された ISMAP 掲載は登録簿で確認できません（有効期限切れ: {expiry.isoformat()}）"
        in detail
    )
    old = login(security).get(f"/applications/{app.pk}/judgements/{first.pk}/").content.decode()
    assert "申告された掲載はすべて登録簿で確認できました" in old

    # judging again with the same registry keeps the latest judgement
    assert entries.rejudge(app, security) == judgement

    # a renewal is applied for: the listing counts again (3.5 ただし書)
    load("ismap", listed(today, expiry, pending=True), filename="v3.csv")
    (alert,) = check_in_use().alerts  # still listed by the check, with how long it waits
    past = (today - expiry).days
    assert alert.status == "renewal_pending" and alert.check.counted
    assert alert.as_dict()["days_past_expiry"] == past
    assert f"{past} 日" in alert.message and "更新申請中" in alert.message
    renewed = entries.rejudge(app, security)
    app.refresh_from_db()
    assert app.verdict == "permitted" and renewed.request["service"]["listings"] == ["ismap"]
    assert renewed.listing_check.findings[0]["code"] == "renewal_pending"


def test_expiring_withdrawn_unknown_and_unverified_alerts(
    load, make_service, make_application, applicant, security, put_in_use, today
):
    def in_use(name, provider, listings):
        service = make_service(name=name, provider=provider, listings=listings)
        return put_in_use(make_application(service=service), applicant, security)

    soon = in_use("まもなくクラウド", "株式会社まもなく", ("ismap",))
    gone = in_use("とりさげメール", "とりさげ株式会社", ("ismap",))
    unknown = in_use("どこにもないSaaS", "株式会社ない", ("ismap",))
    liu = in_use("日程調整", "株式会社日程", ("ismap_liu",))  # ISMAP-LIU never imported
    fine = in_use("ながもちストレージ", "ながもち株式会社", ("ismap",))
    load(
        "ismap",
        ismap_csv(
            (
                "C21-0001-1",
                "まもなくクラウド",
                "株式会社まもなく",
                audit_end_for_expiry(today + 30 * DAY),
                0,
                0,
            ),
            ("C21-0002-1", "とりさげメール", "とりさげ株式会社", today - 10 * DAY, 0, 1),
            ("C21-0003-1", "ながもちストレージ", "ながもち株式会社", today - 10 * DAY, 0, 0),
        ),
    )
    report = check_in_use(days=90)
    by_app = {a.applications[0][1]: a for a in report.alerts}
    assert set(by_app) == {soon.number, gone.number, unknown.number, liu.number}
    assert fine.number not in by_app
    assert by_app[soon.number].status == "expiring" and by_app[soon.number].check.days_left <= 30
    assert by_app[gone.number].status == "withdrawn"
    assert by_app[unknown.number].status == "unknown"
    assert by_app[liu.number].status == "unverified"
    # most severe first
    assert [a.status for a in report.alerts] == ["withdrawn", "unknown", "expiring", "unverified"]
    # a shorter horizon drops the expiring one
    assert soon.number not in {a.applications[0][1] for a in check_in_use(days=10).alerts}


def test_drafts_and_ended_applications_are_not_checked(load, make_service, make_application, today):
    load("ismap", ismap_csv(("C21-0001-1", "別のもの", "株式会社別", today, 0, 0)))
    make_application(service=make_service(name="下書きのサービス", listings=("ismap",)))
    report = check_in_use()
    assert report.ok and report.services == 0


def test_check_queries_do_not_grow_with_services(
    load, make_service, make_application, applicant, security, put_in_use, today
):
    # an LGWAN-ASP list: the applications' ISMAP declarations stay unverified (counted)
    load("lgwan_asp", lgwan_csv(("A1", "サービス 0", "サンプル株式会社", "区分", 0)))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            check_in_use()
        return len(ctx.captured_queries)

    put_in_use(make_application(), applicant, security)
    few = count()
    for _ in range(4):
        put_in_use(make_application(), applicant, security)
    entries.set_number(make_service(name="番号つき"), "lgwan_asp", "A1", security)
    assert count() == few == 4


def test_listing_check_is_immutable(make_application):
    app = make_application()
    check = ListingCheck.objects.get(judgement=app.latest_judgement)
    with pytest.raises(ListingCheckError):
        check.save()
    with pytest.raises(ListingCheckError):
        check.delete()
