"""An application's facts → the engine's request → ``cloudjudge.judge``.

The engine is the only source of judgements. Each run that is kept becomes an
immutable :class:`Judgement` snapshot (request, decision, criteria version,
time, actor); earlier snapshots are never touched.

The listings sent to the engine are the local registry's answer on the
judgement date, not the applicant's declaration (``registries.listings``); what
the registry said is kept next to each judgement as a ``ListingCheck``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

import cloudjudge
from cloudjudge.catalog import Catalog
from cloudjudge.catalog.versions import active_catalog
from cloudjudge.engine import RequestError
from cloudjudge.web.audit import reconcile
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import entry, record_many
from cloudjudge.web.bulk import bulk_insert
from cloudjudge.web.register import checklist, notices, workflow
from cloudjudge.web.register.models import Application, Judgement, Service
from cloudjudge.web.registries.listings import (
    EffectiveListings,
    effective_listings,
    effective_listings_of,
    keep_all,
    kept_results,
)


def service_part(service: Service, listings: list[str] | None = None) -> dict[str, Any]:
    return {
        "name": service.name,
        "provider": service.provider,
        "listings": service.listings if listings is None else listings,
        "isms_certifications": service.isms_certifications,
        "security_update_service": service.security_update_service,
    }


def request_for(
    application: Application,
    service: Service | None = None,
    *,
    listings: EffectiveListings | None = None,
) -> dict[str, Any]:
    """The engine request for an application (saved or not); ``service`` stands
    in for the application's own (a service not yet in the register). The
    listings are the registry's answer for today unless ``listings`` is given."""
    service = service if service is not None else application.service
    if listings is None:
        listings = effective_listings(service)
    connection: dict[str, Any] = {
        "method": application.method,
        "internet_virtual_pc": application.internet_virtual_pc,
        "download_to_internet_terminal": application.download_to_internet_terminal,
        "download_by_contractor": application.download_by_contractor,
    }
    if application.breakout_usage:
        connection["breakout_usage"] = application.breakout_usage
    if application.network:
        connection["network"] = application.network
    # A fact not stated yet is left out, so the engine names it as missing.
    data: dict[str, Any] = {}
    if application.confidentiality:
        data["confidentiality"] = application.confidentiality
    data["my_number"] = application.my_number
    data["administrative_documents"] = application.administrative_documents
    data["critical_to_citizens"] = application.critical_to_citizens
    if not application.method:
        del connection["method"]
    return {
        "service": service_part(service, listings.codes),
        "data": data,
        "connection": connection,
        "exceptions": {
            "internet_only_function": application.internet_only_function,
            "limited_external_sharing": application.limited_external_sharing,
            "council_approved_legacy": application.council_approved_legacy,
        },
    }


def criteria() -> Catalog:
    """The criteria version judged with: the installed one in force today, or
    the one pinned by ``settings.CLOUDJUDGE_CATALOG_VERSION``."""
    return active_catalog(getattr(settings, "CLOUDJUDGE_CATALOG_VERSION", ""))


def decide(request: dict[str, Any], catalog: Catalog | None = None) -> cloudjudge.Decision:
    """The engine's decision; :class:`RequestError` if the facts are incomplete."""
    return cloudjudge.judge(request, catalog or criteria())


def preview(
    application: Application, service: Service | None = None
) -> tuple[cloudjudge.Decision | None, RequestError | None]:
    """Judge without keeping anything: for the live verdict while filling in."""
    try:
        return decide(request_for(application, service)), None
    except RequestError as exc:
        return None, exc


def judge_application(
    application: Application, actor=None, *, catalog: Catalog | None = None
) -> Judgement:
    """Judge a saved application and keep the result (with ``catalog``, or the
    criteria version in force: ``criteria()``); :class:`RequestError` if its
    facts are incomplete. A batch of one: see :func:`judge_applications`."""
    (result,) = judge_applications([application], actor, catalog=catalog)
    if isinstance(result, RequestError):
        raise result
    return result


@transaction.atomic
def judge_applications(
    applications: Sequence[Application], actor=None, *, catalog: Catalog | None = None
) -> list[Judgement | RequestError]:
    """Judge saved applications and keep the results, in one transaction; per
    application, in order, its judgement, or the :class:`RequestError` that
    left it as it was (facts incomplete).

    A new snapshot is written only when the request, the criteria version or
    the registry's answer differs from the latest one; the application's denormalised verdict and
    its checklist follow the latest snapshot. Under another criteria version,
    rows no longer required are closed with a note saying so. A verdict worse
    than before on an approved or in-use application moves it to 見直しが必要
    (``workflow.mark_needs_review_many``), and is notified once the
    transaction commits.

    The work is done for the whole batch at once: the registry is read once
    for all the services (``effective_listings_of``), and the snapshots, the
    registry answers kept with them, their audit entries, the applications'
    verdicts and the checklist rows are each written with one or a few queries.
    """
    catalog = catalog or criteria()
    today = timezone.localdate()
    listings = effective_listings_of(
        {a.service_id: a.service for a in applications}.values(), today
    )
    latest_ids = [a.latest_judgement_id for a in applications if a.latest_judgement_id]
    kept = kept_results(latest_ids) if latest_ids else {}
    results: list[Judgement | RequestError] = []
    new: list[tuple[Application, Judgement | None, Judgement, EffectiveListings]] = []
    for application in applications:
        answer = listings[application.service_id]
        request = request_for(application, listings=answer)
        try:
            decision = decide(request, catalog)
        except RequestError as exc:
            results.append(exc)
            continue
        latest = application.latest_judgement
        if (
            latest is not None
            and latest.request == request
            and latest.criteria_version == decision["criteria_version"]
            and answer.same_as(kept.get(latest.pk))
        ):
            results.append(latest)
            continue
        judgement = Judgement(
            application=application,
            request=request,
            decision=decision,
            criteria_version=decision["criteria_version"],
            verdict=decision["verdict"],
            actor=actor,
        )
        results.append(judgement)
        new.append((application, latest, judgement, answer))
    if not new:
        return results
    bulk_insert(Judgement.objects, [judgement for _a, _l, judgement, _k in new])
    record_many(
        entry(Action.CREATE, actor=actor, obj=judgement, after=reconcile.state(judgement))
        for _a, _l, judgement, _k in new
    )
    keep_all((judgement, answer) for _a, _l, judgement, answer in new)
    now = timezone.now()
    work = []
    for application, latest, judgement, _answer in new:
        decision = judgement.decision
        application.latest_judgement = judgement
        application.verdict = decision["verdict"]
        application.needs_ciso_approval = "ciso" in decision["approvals"]
        application.pia_required = decision["pia_required"]
        application.updated_at = now
        revised = latest is not None and latest.criteria_version != judgement.criteria_version
        closing_note = (
            f"判断基準 {judgement.criteria_version} の判定で不要になりました（{today:%Y-%m-%d}）"
            if revised
            else ""
        )
        work.append((application, decision["required"], closing_note))
    # One UPDATE per distinct verdict (bulk_update's CASE per row costs more
    # than the rest of the batch); each takes its own new judgement.
    judged: dict[tuple[str, bool, bool], list[int]] = defaultdict(list)
    for application, _l, _j, _k in new:
        flags = (application.verdict, application.needs_ciso_approval, application.pia_required)
        judged[flags].append(application.pk)
    newest = Judgement.objects.filter(
        application_id=OuterRef("pk"), pk__in=[judgement.pk for _a, _l, judgement, _k in new]
    )
    for (verdict, ciso, pia), pks in judged.items():
        Application.objects.filter(pk__in=pks).order_by().update(
            latest_judgement=Subquery(newest.order_by().values("pk")[:1]),
            verdict=verdict,
            needs_ciso_approval=ciso,
            pia_required=pia,
            updated_at=now,
        )
    checklist.sync_many(work, actor)
    # Every re-judgement path (facts, registry, criteria) passes here: a worse
    # verdict on an approved or in-use application sends it back for a look.
    # The e-mails go together once the batch has committed.
    worse = workflow.mark_needs_review_many(
        ((application, latest, judgement) for application, latest, judgement, _answer in new),
        actor,
    )
    if worse:
        transaction.on_commit(lambda: notices.needs_review_many(worse))
    return results
