"""An application's latest judgement and its checklist as OSCAL assessment-results (JSON).

One ``result`` per document: the judgement (verdict and criteria version as
properties, its start the time it was judged, its ``remarks`` the exception
grounds claimed, as the application page shows them), each engine finding as
an ``observation``, and each measure the judgement requires (each active
checklist row) as a ``finding`` whose target is that item's statement in the catalog's
OSCAL export (``cloudjudge catalog export-oscal``: ``{item}_smt``), satisfied
when the row is done or does not apply. Plain JSON; the tests validate it with
compliance-trestle's models.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cloudjudge.catalog.oscal import NAMESPACE, OSCAL_VERSION, stable_uuid, timestamp
from cloudjudge.labels import CHECKLIST_STATUS_LABELS, EFFECT_LABELS, VERDICT_LABELS
from cloudjudge.web.documents.content import exception_grounds
from cloudjudge.web.register.models import Application, ChecklistItem, Judgement

JSON_TYPE = "application/json; charset=utf-8"


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NAMESPACE, "value": value}


def _observation(judgement: Judgement, n: int, finding: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": stable_uuid("observation", str(judgement.pk), str(n)),
        "title": f"{finding['rule']}（{EFFECT_LABELS.get(finding['effect'], finding['effect'])}）",
        "description": finding["message"],
        "props": [
            _prop("rule", finding["rule"]),
            _prop("effect", finding["effect"]),
            _prop("clause", finding["clause"]),
        ],
        "methods": ["EXAMINE"],
        "collected": timestamp(judgement.created_at),
    }


def _finding(judgement: Judgement, item: ChecklistItem) -> dict[str, Any]:
    props = [_prop("checklist-status", item.status), _prop("clause", item.clause)]
    if item.due_date:
        props.append(_prop("due-date", item.due_date.isoformat()))
    if item.owner_id:
        props.append(_prop("owner", str(item.owner)))
    status: dict[str, Any] = {"state": "satisfied" if item.resolved else "not-satisfied"}
    label = CHECKLIST_STATUS_LABELS.get(item.status, item.status)
    status["remarks"] = label
    return {
        "uuid": stable_uuid("finding", str(judgement.pk), item.item_id),
        "title": f"{item.item_id} {item.title}",
        "description": item.reason or item.title,
        "props": props,
        "target": {
            "type": "objective-id",
            "target-id": f"{item.item_id}_smt",
            "title": item.title,
            "status": status,
        },
    }


def assessment_results(
    application: Application,
    judgement: Judgement,
    items: Iterable[ChecklistItem],
    modified: datetime,
) -> dict[str, Any]:
    """The document (``{"assessment-results": …}``) for this judgement and these rows."""
    rows = list(items)
    decision = judgement.decision
    verdict = VERDICT_LABELS.get(judgement.verdict, judgement.verdict)
    result: dict[str, Any] = {
        "uuid": stable_uuid("result", str(judgement.pk)),
        "title": f"{application.number} の判定（{verdict}）",
        "description": (
            f"{application.service.name}: 判断基準 {judgement.criteria_version} による判定は"
            f"「{verdict}」。必要な対策 {len(rows)} 件、"
            f"済み又は該当なし {sum(1 for r in rows if r.resolved)} 件。"
        ),
        "start": timestamp(judgement.created_at),
        "props": [
            _prop("application-number", application.number),
            _prop("application-status", application.status),
            _prop("verdict", judgement.verdict),
            _prop("criteria-version", judgement.criteria_version),
        ],
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": r.item_id} for r in rows]}
                if rows
                else {"include-all": {}}
            ]
        },
    }
    grounds = exception_grounds(application)
    if grounds:
        result["remarks"] = "\n\n".join(("例外の根拠", *grounds))
    observations = [
        _observation(judgement, n, f) for n, f in enumerate(decision.get("findings", []))
    ]
    if observations:
        result["observations"] = observations
    if rows:
        result["findings"] = [_finding(judgement, r) for r in rows]
    return {
        "assessment-results": {
            "uuid": stable_uuid("assessment-results", str(judgement.pk), timestamp(modified)),
            "metadata": {
                "title": f"{application.number} {application.service.name} の判定と対策の状況",
                "last-modified": timestamp(modified),
                "version": judgement.criteria_version,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": f"urn:cloudjudge:criteria:{judgement.criteria_version}"},
            "results": [result],
        }
    }


def application_assessment_results(application: Application, modified: datetime) -> dict[str, Any]:
    """The document for the application's latest judgement and its active checklist rows.

    Raises ``Judgement.DoesNotExist`` when the application was never judged."""
    judgement = application.latest_judgement
    if judgement is None:
        raise Judgement.DoesNotExist
    items = (
        application.checklist_items.filter(active=True)
        .select_related("owner")
        .order_by("position", "id")
    )
    return assessment_results(application, judgement, items, modified)


def filename(application: Application) -> tuple[str, str]:
    """(Japanese name, ASCII fallback) of the download."""
    number = application.number or str(application.pk)
    return f"判定結果_OSCAL_{number}.json", f"assessment-results_{number}.json"
