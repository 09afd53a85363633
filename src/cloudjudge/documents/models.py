"""The plain data the document builders take.

The web layer (or a script) fills these from its own models; nothing here
knows Django. Codes that come from the engine (verdict, connection method,
confidentiality) are given as codes and labelled by the documents; words that
belong to the web layer (application status, role, action) are given as the
labels to print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cloudjudge.catalog import Catalog, default_catalog
from cloudjudge.presentation.dates import DateStyle

#: The item groups a vendor answers for (3.1(2), 3.2, 別紙1).
QUESTIONNAIRE_GROUPS: tuple[str, ...] = ("SEL", "S1", "S2", "EXIT")
#: The ``party`` values (catalog) of the items the provider carries out, alone or with the city.
VENDOR_PARTIES: tuple[str, ...] = ("provider", "both")


def in_questionnaire_group(item_id: str) -> bool:
    return item_id.split("-", 1)[0] in QUESTIONNAIRE_GROUPS


def asks_vendor(item_id: str, catalog: Catalog) -> bool:
    """Whether the vendor questionnaire asks about the item: one of the groups
    SEL, S1, S2, EXIT that the provider carries out (``party`` 事業者 or both).
    The city's own measures (``party: city``) never leave the city."""
    if not in_questionnaire_group(item_id):
        return False
    # An item the catalog does not know is kept, so that building refuses it by name.
    return not catalog.has_item(item_id) or catalog.item(item_id).party in VENDOR_PARTIES


def vendor_item_ids(decision: Mapping[str, Any], catalog: Catalog) -> tuple[str, ...]:
    """The IDs of the decision's required items the vendor answers for, in its order."""
    return tuple(
        entry["id"] for entry in decision.get("required", ()) if asks_vendor(entry["id"], catalog)
    )


@dataclass(frozen=True)
class QuestionnaireRequest:
    """One application's vendor questionnaire: who it is for and what it asks.

    ``decision`` is the engine's decision for the application
    (``cloudjudge.judge(facts)``); the questionnaire asks about its ``required``
    items of the groups SEL, S1, S2 and EXIT that the provider carries out
    (:func:`asks_vendor`), in the decision's order. ``catalog`` is the criteria
    the decision was made under (the shipped one by default).
    """

    application_number: str
    service_name: str
    provider: str
    department: str
    decision: Mapping[str, Any]
    due_date: date | None = None
    #: Who the vendor returns the workbook to (name, mail, phone), printed on the cover.
    contact: str = ""
    issued_on: date | None = None
    catalog: Catalog | None = None
    #: How the cover writes its dates (the city's ``CLOUDJUDGE_DATE_STYLE``).
    date_style: DateStyle = "wareki"

    @property
    def criteria_version(self) -> str:
        return str(self.decision.get("criteria_version", ""))

    def _catalog(self) -> Catalog:
        return self.catalog or default_catalog()

    @property
    def item_ids(self) -> tuple[str, ...]:
        """The IDs the questionnaire asks about, in the decision's order."""
        return vendor_item_ids(self.decision, self._catalog())


@dataclass(frozen=True)
class ChecklistRow:
    """One required measure of an application and how far it has got."""

    item_id: str
    title: str
    clause: str
    #: The status as the web layer labels it (未対応, 対応中, 対応済, 該当なし, …).
    status: str
    owner: str = ""
    due_date: date | None = None
    #: File names (or titles) of the evidence attached to the item.
    evidence: tuple[str, ...] = ()
    #: Free text: the reason for 該当なし, the vendor's explanation, …
    note: str = ""


@dataclass(frozen=True)
class ApprovalRecord:
    """One step of the approval history."""

    actor: str
    #: The actor's role as printed (担当, 情報システム管理者, 統括情報セキュリティ責任者).
    role: str
    #: What they did as printed (申請, 承認, 差戻し, …).
    action: str
    at: datetime
    comment: str = ""


@dataclass(frozen=True)
class ApplicationSummary:
    """Everything a judgement report prints about one application."""

    number: str
    service_name: str
    provider: str
    department: str
    applicant: str
    purpose: str
    #: The judgement request as given to ``cloudjudge.judge`` (service/data/connection/exceptions).
    facts: Mapping[str, Any]
    #: The engine's decision for ``facts``.
    decision: Mapping[str, Any]
    checklist: tuple[ChecklistRow, ...] = ()
    approvals: tuple[ApprovalRecord, ...] = ()
    #: The exception grounds (例外の根拠) as the application page shows them: the
    #: label of each ground claimed, then the applicant's explanation. Printed
    #: only when there is one.
    exception_grounds: tuple[str, ...] = ()
    #: The criteria the decision was made under; defaults to the decision's own.
    criteria_version: str = ""
    #: The application's status as the web layer labels it (審査中, 承認済, …).
    status: str = ""
    #: Printed as the generation time; defaults to now.
    generated_at: datetime | None = None
    #: Issuing body printed under the title (e.g. 堺市).
    organisation: str = ""
    #: How the report writes its dates (the city's ``CLOUDJUDGE_DATE_STYLE``).
    date_style: DateStyle = "wareki"

    @property
    def version(self) -> str:
        return self.criteria_version or str(self.decision.get("criteria_version", ""))


@dataclass(frozen=True)
class RegisterRow:
    """One application in the register (台帳) for the yearly review."""

    number: str
    department: str
    service_name: str
    #: Engine code (local_breakout, …); labelled in the report. Unknown codes print as given.
    method: str
    #: Engine code (3A, 3B, 3C, 2, 1).
    confidentiality: str
    #: Engine code (prohibited, approval_required, permitted).
    verdict: str
    #: The application's status as the web layer labels it.
    status: str
    review_due: date | None = None
    provider: str = ""
    #: The service's entries in the public lists as printed, e.g.
    #: 「ISMAP 失効（令和8年3月31日）」; empty when it is linked to none.
    registry_status: str = ""
