"""Creating and changing applications: judged whenever complete, always in scope.

The UI's forms and the HTTP API both go through these functions, so a
complete application never exists without its judgement and checklist. A
draft saved in the browser before every fact is stated stays unjudged until
it is complete (the API accepts only complete facts).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from cloudjudge.engine import RequestError
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import changes, record, snapshot
from cloudjudge.web.register import judging, permissions
from cloudjudge.web.register.models import Application, Service
from cloudjudge.web.register.workflow import NotAllowed

#: The stated facts an applicant may set (everything the engine reads, and the purpose).
FACT_FIELDS = (
    "purpose",
    "confidentiality",
    "my_number",
    "administrative_documents",
    "critical_to_citizens",
    "method",
    "breakout_usage",
    "internet_virtual_pc",
    "network",
    "download_to_internet_terminal",
    "download_by_contractor",
    "internet_only_function",
    "limited_external_sharing",
    "council_approved_legacy",
    "exception_note",
)


#: What the audit trail records of an application: its facts and where it
#: stands (``audit.reconcile`` compares them with the stored row).
AUDITED_FIELDS = (
    *FACT_FIELDS,
    "service",
    "department",
    "applicant",
    "status",
    "verdict",
    "approved_by",
    "approved_at",
    "ciso_approved_by",
    "ciso_approved_at",
)


def _judge(application: Application, actor) -> None:
    """Judge the application; a draft whose facts are not all stated yet is
    kept unjudged (no verdict) until they are: submitting needs a judgement."""
    try:
        judging.judge_application(application, actor=actor)
    except RequestError:
        if application.latest_judgement_id is not None or application.verdict:
            application.latest_judgement = None
            application.verdict = ""
            application.needs_ciso_approval = application.pia_required = False
            application.save(
                update_fields=[
                    "latest_judgement",
                    "verdict",
                    "needs_ciso_approval",
                    "pia_required",
                    "updated_at",
                ]
            )


def _facts(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(FACT_FIELDS)
    if unknown:
        raise TypeError(f"not an application fact: {', '.join(sorted(unknown))}")
    return values


@transaction.atomic
def create_application(applicant, service: Service, **facts: Any) -> Application:
    """A new draft in the applicant's department, judged at once."""
    if not permissions.can_create_application(applicant):
        raise NotAllowed("only an applicant with a department may apply")
    if service.pk is None:
        service.save()
        record(Action.CREATE, actor=applicant, obj=service, after=snapshot(service))
    application = Application(
        department_id=applicant.department_id,
        applicant=applicant,
        service=service,
        **_facts(facts),
    )
    application.full_clean(exclude=["number", "latest_judgement"])
    application.save()
    _judge(application, applicant)
    record(
        Action.CREATE,
        actor=applicant,
        obj=application,
        after=snapshot(application, AUDITED_FIELDS),
    )
    return application


@transaction.atomic
def update_application(
    application: Application, actor, service: Service | None = None, **facts: Any
) -> Application:
    """Change the facts of a draft or returned application and re-judge it
    (earlier judgements are kept)."""
    if not permissions.can_edit_application(actor, application):
        raise NotAllowed("this application cannot be changed by this user now")
    before = snapshot(application, AUDITED_FIELDS)
    if service is not None:
        if service.pk is None:
            service.save()
            record(Action.CREATE, actor=actor, obj=service, after=snapshot(service))
        application.service = service
    for name, value in _facts(facts).items():
        setattr(application, name, value)
    application.full_clean(exclude=["number", "latest_judgement"])
    application.save()
    _judge(application, actor)
    diff = changes(before, snapshot(application, AUDITED_FIELDS))
    if diff:
        record(Action.UPDATE, actor=actor, obj=application, before=diff.before, after=diff.after)
    return application
