"""The shapes the API reads and writes (and documents in OpenAPI).

Codes are the register's and the engine's (``confidentiality: "3B"``,
``method: "local_breakout"``, ``status: "submitted"``…); ``*_label`` fields
give the same in words, in the request's language (Japanese by default).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ninja import Field, Schema
from pydantic import ConfigDict

from cloudjudge.engine.request import (
    BreakoutUsage,
    IsmsCertification,
    Listing,
    Method,
    Network,
)
from cloudjudge.web.register.models import (
    Confidentiality,
    ItemStatus,
    ReviewAction,
    Status,
    Verdict,
)
from cloudjudge.web.register.overview import SORTS
from cloudjudge.web.register.workflow import Step

# The codes come from the register's choices (which are the engine's values),
# so the API cannot drift from the UI. They are built at run time (pydantic
# validates against them and OpenAPI lists them); to the type checker, which
# cannot read a Literal built from a tuple, each is a string.
if TYPE_CHECKING:
    ConfidentialityCode: TypeAlias = str
    StatusCode: TypeAlias = str
    VerdictCode: TypeAlias = str
    ItemStatusCode: TypeAlias = str
    ReviewActionCode: TypeAlias = str
    ActionCode: TypeAlias = str
    SortKey: TypeAlias = str
else:
    ConfidentialityCode = Literal[tuple(Confidentiality.values)]
    StatusCode = Literal[tuple(Status.values)]
    VerdictCode = Literal[tuple(Verdict.values)]
    ItemStatusCode = Literal[tuple(ItemStatus.values)]
    ReviewActionCode = Literal[tuple(ReviewAction.values)]
    ActionCode = Literal[tuple(Step.values)]
    SortKey = Literal[tuple(key for name in SORTS for key in (name, f"-{name}"))]


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- errors


class FieldErrorOut(Schema):
    loc: list[str | int] = Field(description='where: e.g. ["body", "data", "confidentiality"]')
    path: str = Field(description='the same as a dotted path: "data.confidentiality"')
    msg: str = Field(description="what is wrong, in Japanese")


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


class ErrorOut(Schema):
    detail: str
    code: str = Field("", description="for programs: e.g. the workflow guard that refused")


# --------------------------------------------------------------------------- decision


class FindingOut(Schema):
    rule: str = Field("", description="the catalog rule's ID (judgements before 1.1: empty)")
    clause: str
    effect: Literal["prohibit", "approve", "require", "info"]
    message: str


class RequiredItemOut(Schema):
    id: str
    clause: str
    title: str
    reason: str


class RemedyOut(Schema):
    changes: list[dict[str, Any]] = Field(
        description="each {field, from, to}: a fact, its value in the request, and in the remedy"
    )
    verdict: VerdictCode
    clause: str
    message: str


class DecisionOut(Schema):
    """The engine's decision, as ``cloudjudge judge --format json`` prints it."""

    criteria_version: str
    verdict: VerdictCode
    approvals: list[str]
    pia_required: bool
    findings: list[FindingOut]
    required: list[RequiredItemOut]
    remedies: list[RemedyOut] = Field(
        default_factory=list, description="ways out of a prohibition (judgements before 1.1: [])"
    )


# --------------------------------------------------------------------------- references


class DepartmentOut(Schema):
    id: int
    code: str
    name: str


class UserRef(Schema):
    id: int
    username: str
    name: str


class MeOut(UserRef):
    role: str
    role_label: str
    department: DepartmentOut | None
    read_only: bool


class ServiceOut(Schema):
    id: int
    name: str
    provider: str
    listings: list[Listing]
    isms_certifications: list[IsmsCertification]
    security_update_service: bool


class ServiceIn(_In):
    """A service not in the register yet (it is added with the application)."""

    name: str = Field(min_length=1, max_length=200)
    provider: str = Field("", max_length=200)
    listings: list[Listing] = []
    isms_certifications: list[IsmsCertification] = []
    security_update_service: bool = False


class Page(Schema):
    count: int = Field(description="matching rows in all pages")
    page: int
    pages: int
    page_size: int


class ServicePage(Page):
    items: list[ServiceOut]


# --------------------------------------------------------------------------- applications


class ProgressOut(Schema):
    resolved: int
    total: int
    percent: int


class ApplicationOut(Schema):
    id: int
    number: str
    department: DepartmentOut
    applicant: UserRef
    service: ServiceOut
    purpose: str
    confidentiality: ConfidentialityCode | Literal[""] = Field(
        description='"": a draft saved in the browser before this was stated'
    )
    my_number: bool
    administrative_documents: bool
    critical_to_citizens: bool
    method: Method | Literal[""] = Field(
        description='"": a draft saved in the browser before this was stated'
    )
    breakout_usage: BreakoutUsage | Literal[""]
    internet_virtual_pc: bool
    network: Network | Literal[""]
    download_to_internet_terminal: bool
    download_by_contractor: bool
    internet_only_function: bool
    limited_external_sharing: bool
    council_approved_legacy: bool
    exception_note: str
    status: StatusCode
    status_label: str
    status_line: str = Field(
        description="The one status line people read, e.g. 申請中・セキュリティ担当の確認待ち"
    )
    next_actor: Literal["applicant", "security", "ciso", ""] = Field(
        description="Who acts next: applicant, security, ciso, or empty when nobody does"
    )
    next_actor_label: str
    verdict: VerdictCode | Literal[""]
    verdict_label: str
    needs_ciso_approval: bool
    pia_required: bool
    latest_judgement_id: int | None
    submitted_at: datetime.datetime | None
    approved_at: datetime.datetime | None
    approved_by: UserRef | None
    ciso_approved_at: datetime.datetime | None
    ciso_approved_by: UserRef | None
    in_use_since: datetime.date | None
    review_due: datetime.date | None
    ended_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    progress: ProgressOut


class ActionOut(Schema):
    action: ActionCode
    label: str
    allowed: bool
    blocked_reason: str | None = Field(description="why it cannot be taken now (a guard)")


class ExitStepOut(Schema):
    step: str
    label: str
    done_at: datetime.datetime | None
    done_by: UserRef | None
    note: str


class ApplicationDetail(ApplicationOut):
    decision: DecisionOut | None = Field(description="the latest judgement's decision")
    actions: list[ActionOut] = Field(description="the workflow actions this user's role has here")
    can_edit: bool
    can_work_checklist: bool
    exit_steps: list[ExitStepOut]


class ApplicationPage(Page):
    items: list[ApplicationOut]


class _Facts(_In):
    purpose: str = Field(min_length=1)
    confidentiality: ConfidentialityCode
    my_number: bool = False
    administrative_documents: bool = True
    critical_to_citizens: bool = False
    method: Method
    breakout_usage: BreakoutUsage | None = Field(
        None, description="required with local_breakout (表1 columns A/B/C)"
    )
    internet_virtual_pc: bool = False
    network: Network | None = Field(None, description="empty: the line the method implies")
    download_to_internet_terminal: bool = False
    download_by_contractor: bool = Field(
        False, description="a contractor downloads the data (別紙1① No.11 なお書); needs the above"
    )
    internet_only_function: bool = False
    limited_external_sharing: bool = False
    council_approved_legacy: bool = False
    exception_note: str = ""


class ApplicationIn(_Facts):
    """A new draft in the caller's department, judged at once. Give the service
    as ``service_id`` (in the register) or ``service`` (a new one)."""

    service_id: int | None = None
    service: ServiceIn | None = None


class ApplicationPatch(_In):
    """Only the fields given change; the application is judged again."""

    service_id: int | None = None
    service: ServiceIn | None = None
    purpose: str | None = Field(None, min_length=1)
    confidentiality: ConfidentialityCode | None = None
    my_number: bool | None = None
    administrative_documents: bool | None = None
    critical_to_citizens: bool | None = None
    method: Method | None = None
    breakout_usage: BreakoutUsage | None = None
    internet_virtual_pc: bool | None = None
    network: Network | None = None
    download_to_internet_terminal: bool | None = None
    download_by_contractor: bool | None = None
    internet_only_function: bool | None = None
    limited_external_sharing: bool | None = None
    council_approved_legacy: bool | None = None
    exception_note: str | None = None


class JudgementOut(Schema):
    id: int
    created_at: datetime.datetime
    criteria_version: str
    verdict: VerdictCode
    actor: UserRef | None
    request: dict[str, Any] = Field(description="the engine request judged")
    decision: DecisionOut


# --------------------------------------------------------------------------- workflow


class ActionIn(_In):
    action: ActionCode
    comment: str = Field("", description="required for return and reject")


class ConditionIn(_In):
    item_id: str = Field(description="the checklist row's catalog ID, e.g. T1-03")
    owner_id: int = Field(description="the user who completes it")
    due_date: datetime.date


class ConditionalApprovalIn(_In):
    rows: list[ConditionIn] = Field(description="the open rows that may stay open at start_use")
    comment: str = ""


class ReviewOut(Schema):
    id: int
    action: ReviewActionCode
    action_label: str
    actor: UserRef
    comment: str
    judgement_id: int | None
    created_at: datetime.datetime


# --------------------------------------------------------------------------- checklist


class EvidenceOut(Schema):
    id: int
    original_name: str
    size: int
    sha256: str
    uploaded_by: UserRef
    uploaded_at: datetime.datetime


class ChecklistItemOut(Schema):
    id: int
    item_id: str = Field(description="the catalog's ID, e.g. T1-07")
    clause: str
    title: str
    reason: str
    position: int
    active: bool = Field(description="required by the latest judgement")
    status: ItemStatusCode
    status_label: str
    na_reason: str
    owner: UserRef | None
    due_date: datetime.date | None
    note: str
    updated_at: datetime.datetime
    updated_by: UserRef | None
    evidence: list[EvidenceOut]


class ChecklistOut(Schema):
    progress: ProgressOut = Field(description="over the active rows")
    items: list[ChecklistItemOut]


class ChecklistItemPatch(_In):
    """Only the fields given change. 該当なし (``not_applicable``) needs ``na_reason``."""

    status: ItemStatusCode | None = None
    na_reason: str | None = None
    owner_id: int | None = Field(
        None, description="a user of the department (applicant) or the security office; null: none"
    )
    due_date: datetime.date | None = None
    note: str | None = None


# --------------------------------------------------------------------------- registries


class RegistryEntryOut(Schema):
    """One service on one public list, with its status on the day asked."""

    id: int
    kind: str = Field(description="ismap, ismap_liu or lgwan_asp")
    number: str = Field(description="registration number (ISMAP, ISMAP-LIU) or service code")
    service_name: str
    provider: str
    registered_on: datetime.date | None
    audit_period_end: datetime.date | None
    renewal_pending: bool
    withdrawn: bool
    source_url: str
    category: str
    regions: list[str]
    expires_on: datetime.date | None
    status: str = Field(description="valid, expiring, renewal_pending, expired, withdrawn, ...")
    status_label: str
    last_checked_on: datetime.date | None
    on_list: bool
    snapshot_id: int | None
    removed_in_id: int | None


class RegistryEntryPage(Page):
    today: datetime.date
    results: list[RegistryEntryOut]


class RegistrySnapshotOut(Schema):
    id: int
    kind: str
    source_name: str
    sha256: str
    row_count: int
    added: int
    removed: int
    changed: int
    importer: str
    imported_at: datetime.datetime
    is_current: bool


class RegistrySnapshotList(Schema):
    results: list[RegistrySnapshotOut]


class RegistryProblemOut(Schema):
    code: str
    sheet: str
    row: int | None
    column: str | None
    message: str


class RegistryImportOut(Schema):
    """What an import did; a refused one (422) also carries the API's usual
    ``detail`` list, one entry a problem, beside the problems themselves."""

    status: Literal["imported", "unchanged", "rejected"]
    kind: str
    message: str
    snapshot: RegistrySnapshotOut | None
    diff: dict[str, Any] | None
    problems: list[RegistryProblemOut]
    detail: list[FieldErrorOut] = []
