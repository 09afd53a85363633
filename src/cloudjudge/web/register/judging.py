"""An application's facts → the engine's request → ``cloudjudge.judge``.

The engine is the only source of judgements. Each run that is kept becomes an
immutable :class:`Judgement` snapshot (request, decision, criteria version,
time, actor); earlier snapshots are never touched.

The listings sent to the engine are the local registry's answer on the
judgement date, not the applicant's declaration (``registries.listings``); what
the registry said is kept next to each judgement as a ``ListingCheck``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import cloudjudge
from cloudjudge.catalog import Catalog
from cloudjudge.catalog.versions import active_catalog
from cloudjudge.engine import RequestError
from cloudjudge.web.audit import reconcile
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.register import checklist, workflow
from cloudjudge.web.register.models import Application, Judgement, Service
from cloudjudge.web.registries.listings import EffectiveListings, effective_listings


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


@transaction.atomic
def judge_application(
    application: Application, actor=None, *, catalog: Catalog | None = None
) -> Judgement:
    """Judge a saved application and keep the result (with ``catalog``, or the
    criteria version in force: ``criteria()``).

    A new snapshot is written only when the request, the criteria version or
    the registry's answer differs from the latest one; the application's denormalised verdict and
    its checklist follow the latest snapshot. Under another criteria version,
    rows no longer required are closed with a note saying so. A verdict worse
    than before on an approved or in-use application moves it to 見直しが必要
    (``workflow.mark_needs_review_if_worse``).
    """
    listings = effective_listings(application.service)
    request = request_for(application, listings=listings)
    decision = decide(request, catalog)
    latest = application.latest_judgement
    if (
        latest is not None
        and latest.request == request
        and latest.criteria_version == decision["criteria_version"]
        and listings.same_as_kept(latest)
    ):
        return latest
    judgement = Judgement.objects.create(
        application=application,
        request=request,
        decision=decision,
        criteria_version=decision["criteria_version"],
        verdict=decision["verdict"],
        actor=actor,
    )
    record(Action.CREATE, actor=actor, obj=judgement, after=reconcile.state(judgement))
    listings.keep(judgement)
    application.latest_judgement = judgement
    application.verdict = decision["verdict"]
    application.needs_ciso_approval = "ciso" in decision["approvals"]
    application.pia_required = decision["pia_required"]
    application.save(
        update_fields=[
            "latest_judgement",
            "verdict",
            "needs_ciso_approval",
            "pia_required",
            "updated_at",
        ]
    )
    revised = latest is not None and latest.criteria_version != judgement.criteria_version
    checklist.sync(
        application,
        decision["required"],
        actor=actor,
        closing_note=(
            f"判断基準 {judgement.criteria_version} の判定で不要になりました"
            f"（{timezone.localdate():%Y-%m-%d}）"
            if revised
            else ""
        ),
    )
    # Every re-judgement path (facts, registry, criteria) passes here: a worse
    # verdict on an approved or in-use application sends it back for a look.
    workflow.mark_needs_review_if_worse(application, latest, judgement, actor)
    return judgement
