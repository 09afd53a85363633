"""Reading a filled questionnaire back, and accepting what it proposes.

Who does what (the same people as the checklist itself, ``permissions``):

* **importing** a workbook the vendor returned: whoever may work the
  application's checklist, i.e. the applying department's applicants (who
  usually deal with the vendor) and the security office;
* **accepting or rejecting** the proposals: the security office only. A
  vendor's 「対応可」 is a claim; the security office judges whether the claim
  and its 根拠資料 are enough before the row turns 対応済. (The department can
  still set its rows by hand, as always; the questionnaire path adds a second
  pair of eyes, it does not take the department's own rows away.)
* auditors see imports and proposals and change nothing.

An import is all or nothing: a workbook with any problem (altered IDs, rows
of another application, answers outside the list, …) leaves no trace; the
caller shows every problem. Accepting sets the row's status through
``checklist.update_item`` (which writes the row's audit entry), *appends* the
vendor's answer to the row's note, and writes one more audit entry per row
saying who accepted which answer. No vendor answer closes a row by itself: a
「該当なし」 or 「一部対応」 is accepted only with the reviewer's own reason
(``accept(reasons=…)``), which becomes the row's 該当なし reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from cloudjudge.documents import QuestionnaireError, questionnaire, read_questionnaire
from cloudjudge.documents.questionnaire import QuestionnaireProblem
from cloudjudge.web.accounts.models import Role
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.documents import content as documents
from cloudjudge.web.files.stored import store_upload
from cloudjudge.web.questionnaires.models import (
    AnswerProposal,
    ProposalDecision,
    QuestionnaireImport,
)
from cloudjudge.web.register import checklist, permissions
from cloudjudge.web.register.models import Application, ItemStatus

#: A questionnaire is tens of kilobytes; anything near this is not one.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
#: Parts every .xlsx package has (an .xlsb or .ods has others).
XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


def max_bytes() -> int:
    return min(
        getattr(settings, "CLOUDJUDGE_QUESTIONNAIRE_MAX_BYTES", DEFAULT_MAX_BYTES),
        settings.CLOUDJUDGE_MAX_UPLOAD_BYTES,
    )


class StaleImport(Exception):
    """The application changed since the import; its proposals cannot be applied."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


# --------------------------------------------------------------------------- permissions


def can_import(user, application: Application) -> bool:
    return permissions.can_work_checklist(user, application)


def can_decide(user, application: Application) -> bool:
    return permissions.can_work_checklist(user, application) and user.role == Role.SECURITY


# --------------------------------------------------------------------------- import


def _refuse(message: str) -> QuestionnaireError:
    return QuestionnaireError([QuestionnaireProblem("", None, None, message)])


def read_upload(upload: UploadedFile) -> bytes:
    """The upload's bytes, if it can be an .xlsx at all; else QuestionnaireError."""
    limit = max_bytes()
    if upload.size is None or upload.size > limit:
        raise _refuse(
            f"ファイルが大きすぎます（上限 {filesizeformat(limit)}）。"
            "事業者確認票（.xlsx）を選んでください。"
        )
    if upload.size == 0:
        raise _refuse("ファイルが空です。")
    data = b"".join(upload.chunks())
    if not data.startswith(ZIP_MAGIC):
        raise _refuse(
            "Excel ブック（.xlsx）ではありません。"
            "旧形式（.xls）や CSV・PDF の場合は、.xlsx 形式で保存し直してください。"
        )
    names = questionnaire.package_names(data)
    missing = [part for part in XLSX_PARTS if part not in names]
    if missing:
        raise _refuse(
            "Excel ブック（.xlsx）ではありません"
            f"（{', '.join(missing)} がありません。.xlsm・.xlsb・.ods は取り込めません）。"
        )
    # The workbook is kept and offered for download: no macros in it.
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _refuse(
            "マクロを含むブック（.xlsm）は取り込めません。.xlsx 形式で保存し直してください。"
        )
    return data


@transaction.atomic
def import_workbook(application: Application, upload: UploadedFile, actor) -> QuestionnaireImport:
    """Read a filled questionnaire against the application's latest judgement
    and keep its proposals for review. Raises ``QuestionnaireError`` (every
    problem, nothing written) or ``documents.DocumentUnavailable``."""
    data = read_upload(upload)
    judgement = documents.latest_judgement(application)
    catalog = documents.catalog_for(judgement)
    expected = documents.questionnaire_request(application)
    answers = read_questionnaire(data, expected, catalog)

    items = {
        item.item_id: item
        for item in application.checklist_items.filter(active=True, item_id__in=expected.item_ids)
    }
    missing = [a.item_id for a in answers if a.item_id not in items]
    if missing:  # the checklist always follows the latest judgement; never expected
        raise _refuse(f"チェックリストに項目 {', '.join(missing)} がありません。")

    now = timezone.now()
    superseded = AnswerProposal.objects.filter(
        questionnaire__application=application, decision=ProposalDecision.PENDING
    ).update(decision=ProposalDecision.SUPERSEDED, decided_at=now)
    answered = [a for a in answers if a.answered]
    imported = QuestionnaireImport(
        application=application,
        judgement=judgement,
        answered=len(answered),
        unanswered=len(answers) - len(answered),
        uploaded_at=now,
    )
    store_upload(
        imported,
        ContentFile(data, name=upload.name),
        actor,
        action=Action.CREATE,
        extra={
            "application": application.pk,
            "judgement": judgement.pk,
            "answered": imported.answered,
            "unanswered": imported.unanswered,
            "superseded_proposals": superseded,
        },
        default_name="questionnaire.xlsx",
    )
    AnswerProposal.objects.bulk_create(
        AnswerProposal(
            questionnaire=imported,
            checklist_item=items[answer.item_id],
            item_id=answer.item_id,
            row=answer.row,
            answer=answer.answer,
            explanation=answer.explanation,
            evidence_reference=answer.evidence,
            status=proposal.status,
            note=proposal.note,
            reason=proposal.reason,
        )
        for answer in answered
        if (proposal := answer.proposal) is not None
    )
    return imported


# --------------------------------------------------------------------------- decisions


def _appended(existing: str, addition: str) -> str:
    existing = (existing or "").rstrip()
    return f"{existing}\n\n{addition}" if existing else addition


def _note_block(proposal: AnswerProposal, imported: QuestionnaireImport) -> str:
    when = timezone.localtime(imported.uploaded_at).strftime("%Y-%m-%d")
    head = f"【事業者確認票 {when} 取込（{imported.original_name}）】"
    return f"{head}\n{proposal.note}"


def _lock(imported: QuestionnaireImport) -> Application:
    """Serialise decisions on one application, and refuse stale imports."""
    application = Application.objects.select_for_update().get(pk=imported.application_id)
    if imported.judgement_id != application.latest_judgement_id:
        raise StaleImport(
            "この回答の取込後に申請が判定し直され、確認項目が変わっている可能性があります。"
            "新しい事業者確認票で回答を取り込み直してください。"
        )
    return application


def _pending(imported: QuestionnaireImport, ids: Iterable[int] | None):
    qs = imported.proposals.filter(decision=ProposalDecision.PENDING).select_related(
        "checklist_item"
    )
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return list(qs.order_by("row", "id"))


def missing_reasons(proposals: Iterable[AnswerProposal], reasons: Mapping[int, str]) -> list[str]:
    """One Japanese line per proposal that needs the reviewer's reason and has none."""
    return [
        f"{p.item_id}（回答シート {p.row} 行目）: 事業者の「{p.answer}」を受け入れるには、"
        "審査者の理由を記入してください。"
        for p in proposals
        if p.needs_review_reason and not reasons.get(p.pk, "").strip()
    ]


@transaction.atomic
def accept(
    imported: QuestionnaireImport,
    actor,
    ids: Iterable[int] | None = None,
    reasons: Mapping[int, str] | None = None,
) -> list[AnswerProposal]:
    """Apply the pending proposals (``ids``, or all): status set, note appended.

    A vendor's 該当なし or 一部対応 is only a proposal: it is applied with the
    reviewer's own reason (``reasons``, by proposal pk), which becomes the row's
    該当なし reason and is kept on the proposal. Each accepted row has its own
    audit entry (who accepted which answer, with what reason). All or nothing:
    a missing reason refuses the whole call (``ValidationError`` naming the rows).
    """
    reasons = reasons or {}
    _lock(imported)
    proposals = _pending(imported, ids)
    missing = missing_reasons(proposals, reasons)
    if missing:
        raise ValidationError(missing)
    now = timezone.now()
    for proposal in proposals:
        item = proposal.checklist_item
        if not item.active:
            raise StaleImport(
                f"{item.item_id} は最新の判定で必要な対策ではなくなりました。"
                "回答を取り込み直してください。"
            )
        reason = reasons.get(proposal.pk, "").strip()
        block = _note_block(proposal, imported)
        if reason:
            block += f"\n審査者の判断（{actor.display_name}）: {reason}"
        changes = {"status": proposal.status, "note": _appended(item.note, block)}
        if proposal.status == ItemStatus.NOT_APPLICABLE:
            changes["na_reason"] = (
                item.na_reason if reason in item.na_reason else _appended(item.na_reason, reason)
            )
        checklist.update_item(item, actor, **changes)
        proposal.decision = ProposalDecision.ACCEPTED
        proposal.decided_by = actor
        proposal.decided_at = now
        proposal.review_reason = reason
        proposal.save(update_fields=["decision", "decided_by", "decided_at", "review_reason"])
        record(
            Action.UPDATE,
            actor=actor,
            obj=proposal,
            extra={
                "application": imported.application_id,
                "questionnaire": imported.pk,
                "accepted": proposal.item_id,
                "row": proposal.row,
                "answer": proposal.answer,
                "status": proposal.status,
                "review_reason": reason,
            },
        )
    return proposals


@transaction.atomic
def reject(
    imported: QuestionnaireImport, actor, ids: Iterable[int] | None = None
) -> list[AnswerProposal]:
    """Close the pending proposals (``ids``, or all) without touching the checklist."""
    Application.objects.select_for_update().get(pk=imported.application_id)
    proposals = _pending(imported, ids)
    if proposals:
        AnswerProposal.objects.filter(pk__in=[p.pk for p in proposals]).update(
            decision=ProposalDecision.REJECTED, decided_by=actor, decided_at=timezone.now()
        )
        record(
            Action.UPDATE,
            actor=actor,
            obj=imported,
            extra={
                "application": imported.application_id,
                "rejected": [p.item_id for p in proposals],
            },
        )
    return proposals
