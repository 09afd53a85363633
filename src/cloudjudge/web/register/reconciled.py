"""What of the register the audit log reconciles (``cloudjudge.web.audit.reconcile``):
the applications, their judgements, reviews and evidence. ``RegisterConfig``
declares these kinds; the audit app finds them there."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy

from cloudjudge.web.audit import chain
from cloudjudge.web.audit.reconcile import Computed, Kind
from cloudjudge.web.register.applications import FACT_FIELDS


def _content_sha256(row: Mapping[str, Any]) -> str:
    """A judgement's request and decision, as stored, in one SHA-256. The
    canonical form alone (no ``json_safe``): the engine's JSON holds strings,
    booleans, integers and lists, which every database gives back as written."""
    content = {"request": row["request"], "decision": row["decision"]}
    return hashlib.sha256(chain.canonical_json(content)).hexdigest()


def _needs_ciso(row: Mapping[str, Any]) -> bool:
    decision = row["decision"]
    return isinstance(decision, dict) and "ciso" in (decision.get("approvals") or ())


def _pia_required(row: Mapping[str, Any]) -> bool:
    decision = row["decision"]
    return isinstance(decision, dict) and bool(decision.get("pia_required"))


def register_kinds() -> list[Kind]:
    return [
        Kind(
            "register.application",
            (
                "department",
                "applicant",
                "service",
                *FACT_FIELDS,
                "status",
                "approved_by",
                "approved_at",
                "ciso_approved_by",
                "ciso_approved_at",
            ),
            also_reads=(
                "number",
                "latest_judgement_id",
                "verdict",
                "needs_ciso_approval",
                "pia_required",
            ),
        ),
        Kind(
            "register.judgement",
            ("application", "verdict", "criteria_version", "actor"),
            {
                "content_sha256": Computed(
                    gettext_lazy("SHA-256 of the request and decision"),
                    ("request", "decision"),
                    _content_sha256,
                ),
                "needs_ciso_approval": Computed(
                    gettext_lazy("needs CISO approval"), ("decision",), _needs_ciso
                ),
                "pia_required": Computed(
                    gettext_lazy("PIA required"), ("decision",), _pia_required
                ),
            },
        ),
        Kind(
            "register.review",
            ("application", "judgement", "actor", "action", "comment"),
        ),
        Kind(
            "register.evidence",
            (
                "application",
                "checklist_item",
                "exit_step",
                "file",
                "original_name",
                "size",
                "sha256",
                "uploaded_by",
            ),
        ),
    ]
