"""A filled vendor questionnaire read back, and the checklist changes it proposes.

An import is written only when the whole workbook was read without a problem
(``importing.import_workbook``); it keeps the workbook itself (through Django's
storage API, like evidence) and one :class:`AnswerProposal` per answered item.
Nothing reaches the checklist until a reviewer accepts a proposal
(``importing.accept``): then its status is set and its note appended to the row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cloudjudge.web.files.stored import StoredFile
from cloudjudge.web.register.models import Application, ChecklistItem, ItemStatus, Judgement


def workbook_path(instance: QuestionnaireImport, filename: str) -> str:
    """A stored name that owes nothing to the uploaded one (kept in ``original_name``)."""
    return f"questionnaires/{instance.application_id}/{uuid.uuid4().hex}.xlsx"


class QuestionnaireImport(StoredFile):
    """One filled questionnaire, read back for one application."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="questionnaire_imports",
    )
    #: The judgement whose items the workbook was checked against; proposals of
    #: an import whose application has been judged again since cannot be accepted.
    judgement = models.ForeignKey(
        Judgement,
        verbose_name=_("judgement"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    file = models.FileField(_("workbook"), upload_to=workbook_path, max_length=200)
    answered = models.PositiveIntegerField(_("answered items"), default=0)
    unanswered = models.PositiveIntegerField(_("unanswered items"), default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("questionnaire import")
        verbose_name_plural = _("questionnaire imports")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.uploaded_at:%Y-%m-%d %H:%M})"


#: Vendor answers the reviewer may accept only with a reason of their own: the
#: vendor saying a measure does not apply, or applies in part, closes nothing.
REASONED_ANSWERS: tuple[str, ...] = ("該当なし", "一部対応")


class ProposalDecision(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    #: A later import of the same application replaced it before it was decided.
    SUPERSEDED = "superseded", _("Superseded by a later import")


class AnswerProposal(models.Model):
    """The vendor's answer to one item and the checklist change it proposes."""

    questionnaire = models.ForeignKey(
        QuestionnaireImport,
        verbose_name=_("questionnaire import"),
        on_delete=models.CASCADE,
        related_name="proposals",
    )
    checklist_item = models.ForeignKey(
        ChecklistItem,
        verbose_name=_("checklist item"),
        on_delete=models.CASCADE,
        related_name="answer_proposals",
    )
    item_id = models.CharField(_("item ID"), max_length=16)
    #: The row of the 回答 sheet the answer was read from.
    row = models.PositiveIntegerField(_("row"))
    answer = models.CharField(_("answer"), max_length=16)
    explanation = models.TextField(_("explanation"), blank=True)
    evidence_reference = models.TextField(_("evidence reference"), blank=True)
    status = models.CharField(_("proposed status"), max_length=16, choices=ItemStatus.choices)
    #: The text appended to the checklist row's note on acceptance.
    note = models.TextField(_("proposed note"))
    #: The reason for 該当なし (the vendor's explanation); empty otherwise.
    reason = models.TextField(_("reason it does not apply"), blank=True)
    decision = models.CharField(
        _("review decision"),
        max_length=16,
        choices=ProposalDecision.choices,
        default=ProposalDecision.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    #: The reviewer's own reason for accepting a 該当なし or 一部対応 (required for those).
    review_reason = models.TextField(_("reviewer's reason"), blank=True)

    class Meta:
        ordering = ["questionnaire", "row", "id"]
        verbose_name = _("answer proposal")
        verbose_name_plural = _("answer proposals")
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "checklist_item"], name="answer_proposal_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.answer}"

    @property
    def pending(self) -> bool:
        return self.decision == ProposalDecision.PENDING

    @property
    def needs_review_reason(self) -> bool:
        """A vendor's 該当なし or 一部対応 is accepted only with the reviewer's own reason."""
        return self.answer in REASONED_ANSWERS
