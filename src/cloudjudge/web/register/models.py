"""The register (台帳): services, applications, their judgements, checklists,
evidence, reviews and lifecycle history.

The models hold data and the invariants that protect it (a judgement is never
changed); the rules of the process live in ``workflow.py``, ``judging.py``,
``checklist.py`` and ``permissions.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cloudjudge.web.accounts.models import Department
from cloudjudge.web.files.stored import StoredFile

# --------------------------------------------------------------------------- choices
# The codes are the engine's request values (cloudjudge.engine.request).


class Confidentiality(models.TextChoices):
    C3A = "3A", _("3A (must not leave the city)")
    C3B = "3B", _("3B (important information asset)")
    C3C = "3C", _("3C (important information asset)")
    C2 = "2", _("2")
    C1 = "1", _("1 (public)")


class Method(models.TextChoices):
    LOCAL_BREAKOUT = "local_breakout", _("Local breakout")
    INTERNET_PC = "internet_pc", _("Internet PC")
    LGWAN_ASP = "lgwan_asp", pgettext_lazy("connection method", "LGWAN-ASP")
    GOVERNMENT_CLOUD = "government_cloud", _("Government cloud")


class BreakoutUsage(models.TextChoices):
    AUTH_ONLY = "auth_only", _("A: authentication / definition updates only")
    NO_FILE_IMPORT = "no_file_import", _("B: no files brought into the office network")
    FILE_IMPORT = "file_import", _("C: files exchanged and brought into the office network")


class Network(models.TextChoices):
    LGWAN = "lgwan", _("LGWAN")
    GOVERNMENT_CLOUD_LINE = "government_cloud_line", _("Government cloud dedicated line")
    INTERNET = "internet", _("Internet")


class Verdict(models.TextChoices):
    PERMITTED = "permitted", _("Permitted")
    APPROVAL_REQUIRED = "approval_required", _("CISO approval required")
    PROHIBITED = "prohibited", _("Prohibited")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    IN_USE = "in_use", _("In use")
    REVIEW_DUE = "review_due", _("Review due")
    ENDING = "ending", _("Ending")
    ENDED = "ended", _("Ended")
    NEEDS_REVIEW = "needs_review", _("Needs review")


class ItemStatus(models.TextChoices):
    TODO = "todo", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


#: Checklist statuses that count as resolved in the progress bar.
RESOLVED_ITEM_STATUSES = (ItemStatus.DONE, ItemStatus.NOT_APPLICABLE)
OPEN_ITEM_STATUSES = (ItemStatus.TODO, ItemStatus.IN_PROGRESS)


class ReviewAction(models.TextChoices):
    APPROVE = "approve", _("Approve")
    CISO_APPROVE = "ciso_approve", _("CISO approval")
    RETURN = "return", _("Return for changes")
    REJECT = "reject", _("Reject")


class ExitStepCode(models.TextChoices):
    """Ending a service walks the catalog's EXIT items (3.2)."""

    EXIT_1 = "EXIT-1", _("Data exported to the successor")
    EXIT_2 = "EXIT-2", _("Deletion certificate received")
    EXIT_3 = "EXIT-3", _("Disposal of equipment confirmed")


# --------------------------------------------------------------------------- service


class Service(models.Model):
    """A cloud service in the register, with the facts the criteria ask about."""

    name = models.CharField(_("service name"), max_length=200)
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    listed_lgwan_asp = models.BooleanField(_("LGWAN-ASP registered"), default=False)
    listed_ismap = models.BooleanField(_("ISMAP listed"), default=False)
    listed_ismap_liu = models.BooleanField(_("ISMAP-LIU listed"), default=False)
    iso27001 = models.BooleanField(_("ISO/IEC 27001"), default=False)
    iso27017 = models.BooleanField(_("ISO/IEC 27017"), default=False)
    iso27018 = models.BooleanField(_("ISO/IEC 27018"), default=False)
    security_update_service = models.BooleanField(
        _("security update feed only"),
        default=False,
        help_text=_("Only delivers virus definitions, IP address or URL lists (3.1(1)(イ))."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    #: Engine listing code → field, and certification code → field.
    LISTING_FIELDS = {
        "lgwan_asp": "listed_lgwan_asp",
        "ismap": "listed_ismap",
        "ismap_liu": "listed_ismap_liu",
    }
    CERTIFICATION_FIELDS = {"iso27001": "iso27001", "iso27017": "iso27017", "iso27018": "iso27018"}

    class Meta:
        ordering = ["name", "provider"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(fields=["name", "provider"], name="service_name_provider")
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.provider}）" if self.provider else self.name

    @property
    def listings(self) -> list[str]:
        return [code for code, field in self.LISTING_FIELDS.items() if getattr(self, field)]

    @listings.setter
    def listings(self, codes) -> None:
        for code, field in self.LISTING_FIELDS.items():
            setattr(self, field, code in codes)

    @property
    def isms_certifications(self) -> list[str]:
        return [code for code, field in self.CERTIFICATION_FIELDS.items() if getattr(self, field)]

    @isms_certifications.setter
    def isms_certifications(self, codes) -> None:
        for code, field in self.CERTIFICATION_FIELDS.items():
            setattr(self, field, code in codes)


# --------------------------------------------------------------------------- application


#: The exception grounds of 3.1(1)(ウ)② (``request.exceptions``), in the form's
#: order: claiming one needs its explanation (``exception_note``).
EXCEPTION_GROUNDS = (
    "internet_only_function",
    "limited_external_sharing",
    "council_approved_legacy",
)


class Application(models.Model):
    """利用申請: one department's use of one service, with the facts it states."""

    number = models.CharField(_("application number"), max_length=20, unique=True, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="applications"
    )
    # A draft may be saved before everything is stated; submitting checks
    # (``forms.ApplicationEditor``), and an incomplete one is not judged.
    purpose = models.TextField(_("purpose of use"), blank=True)

    # data (request.data)
    confidentiality = models.CharField(
        _("confidentiality"), max_length=2, choices=Confidentiality.choices, blank=True
    )
    my_number = models.BooleanField(_("specific personal information (My Number)"), default=False)
    administrative_documents = models.BooleanField(
        _("administrative documents or equivalent"), default=True
    )
    critical_to_citizens = models.BooleanField(
        _("an outage would seriously affect citizen services"), default=False
    )

    # connection (request.connection)
    method = models.CharField(
        _("connection method"), max_length=20, choices=Method.choices, blank=True
    )
    breakout_usage = models.CharField(
        _("local breakout usage"), max_length=20, choices=BreakoutUsage.choices, blank=True
    )
    internet_virtual_pc = models.BooleanField(_("internet virtual PC"), default=False)
    network = models.CharField(
        _("network"),
        max_length=24,
        choices=Network.choices,
        blank=True,
        help_text=_("Leave empty for the line the connection method implies."),
    )
    download_to_internet_terminal = models.BooleanField(
        _("data is downloaded to internet terminals"), default=False
    )
    download_by_contractor = models.BooleanField(
        _("a designated manager or contractor downloads the data"),
        default=False,
        help_text=_("Only with downloads to internet terminals (Annex 1 ① No.11, the なお書)."),
    )

    # exceptions (request.exceptions)
    internet_only_function = models.BooleanField(
        _("the needed function exists only as an internet cloud"), default=False
    )
    limited_external_sharing = models.BooleanField(
        _("sharing with outside parties has no other practical means"), default=False
    )
    council_approved_legacy = models.BooleanField(
        _("introduced earlier with the privacy council's approval"), default=False
    )
    exception_note = models.TextField(_("grounds for the exception"), blank=True)

    # state
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    verdict = models.CharField(
        _("verdict"), max_length=20, choices=Verdict.choices, blank=True, db_index=True
    )
    needs_ciso_approval = models.BooleanField(_("needs CISO approval"), default=False)
    pia_required = models.BooleanField(_("PIA required"), default=False)
    latest_judgement = models.ForeignKey(
        "Judgement",
        verbose_name=_("latest judgement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ciso_approved_at = models.DateTimeField(_("CISO approved"), null=True, blank=True)
    ciso_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("CISO approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    in_use_since = models.DateField(_("in use since"), null=True, blank=True)
    review_due = models.DateField(_("review due"), null=True, blank=True, db_index=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # A conditional approval: 利用開始 with the rows marked ``open_under_condition``
    # still open, each with an owner and a due date (``workflow.approve_conditionally``).
    conditionally_approved_at = models.DateTimeField(
        _("conditionally approved"), null=True, blank=True
    )
    conditionally_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("conditionally approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [
            models.Index(fields=["department", "status"], name="app_department_status"),
            models.Index(fields=["method"], name="app_method"),
            models.Index(fields=["confidentiality"], name="app_confidentiality"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.service.name}" if self.number else self.service.name

    @property
    def exception_grounds(self) -> list[str]:
        """The exception grounds (例外の根拠) as the application page and the
        documents show them: the label of each ground claimed, in the form's
        order and the active language (in Japanese the words of
        ``cloudjudge.labels.FACT_LABELS``), then the applicant's explanation as
        typed. Empty when nothing is claimed or explained."""
        lines = [
            str(capfirst(field.verbose_name))
            for field in self._meta.concrete_fields  # declared in EXCEPTION_GROUNDS' order
            if field.name in EXCEPTION_GROUNDS and getattr(self, field.name)
        ]
        if self.exception_note.strip():
            lines.append(self.exception_note.strip())
        return lines

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        if not self.number:
            self.number = f"CJ-{timezone.localdate(self.created_at).year}-{self.pk:05d}"
            type(self).objects.filter(pk=self.pk).update(number=self.number)


# --------------------------------------------------------------------------- judgement


class ImmutableError(Exception):
    """A judgement is a record of what the engine said: it is never changed."""


class JudgementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("judgements cannot be updated")

    def delete(self):
        raise ImmutableError("judgements cannot be deleted")


class Judgement(models.Model):
    """An immutable snapshot of one run of the engine on an application's facts."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="judgements",
    )
    request = models.JSONField(_("request"))
    decision = models.JSONField(_("decision"))
    criteria_version = models.CharField(_("criteria version"), max_length=100)
    verdict = models.CharField(_("verdict"), max_length=20, choices=Verdict.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("judged for"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("judged at"), default=timezone.now)

    objects = JudgementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("judgement")
        verbose_name_plural = _("judgements")

    def __str__(self) -> str:
        # the audit log shows this: the verdict in words, not its code
        return (
            f"{self.application_id} {self.get_verdict_display()} {self.created_at:%Y-%m-%d %H:%M}"
        )

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableError("judgements cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("judgements cannot be deleted")


# --------------------------------------------------------------------------- checklist


class ChecklistItem(models.Model):
    """A measure the judgement requires, and how far the department has got.

    Rows come from the latest judgement's ``required`` list (``checklist.sync``);
    a row no longer required is kept, inactive, with its status and evidence."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="checklist_items",
    )
    item_id = models.CharField(_("item ID"), max_length=16)
    clause = models.CharField(_("clause"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("required by the latest judgement"), default=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.TODO
    )
    na_reason = models.TextField(_("reason it does not apply"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checklist_items",
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    open_under_condition = models.BooleanField(
        _("left open under a conditional approval"), default=False
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["application", "position", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        constraints = [
            models.UniqueConstraint(fields=["application", "item_id"], name="checklist_item_once")
        ]
        indexes = [
            # Overdue rows (dashboard, reminders), in due order. The condition
            # has no status IN (...): SQLite cannot match a partial index's
            # condition against bound parameters, only against literals.
            models.Index(
                fields=["due_date", "application", "position", "status"],
                name="checklist_overdue",
                condition=models.Q(active=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.title}"

    @property
    def resolved(self) -> bool:
        return self.status in RESOLVED_ITEM_STATUSES


# --------------------------------------------------------------------------- evidence


def evidence_path(instance: Evidence, filename: str) -> str:
    """A stored name that owes nothing to the uploaded one (kept in ``original_name``)."""
    import uuid

    return f"evidence/{instance.application_id}/{uuid.uuid4().hex}"


class Evidence(StoredFile):
    """A file proving a measure (or an exit step), stored through Django's
    storage API and served only by a permission-checked view, as an attachment."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    checklist_item = models.ForeignKey(
        ChecklistItem,
        verbose_name=_("checklist item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence",
    )
    exit_step = models.CharField(
        _("exit step"), max_length=8, choices=ExitStepCode.choices, blank=True
    )
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")


# --------------------------------------------------------------------------- history


class Review(models.Model):
    """A reviewer's decision on a submitted application."""

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.PROTECT, related_name="reviews"
    )
    judgement = models.ForeignKey(
        Judgement,
        verbose_name=_("judgement reviewed"),
        on_delete=models.PROTECT,
        null=True,
        related_name="reviews",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    action = models.CharField(_("action"), max_length=16, choices=ReviewAction.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"{self.application_id} {self.get_action_display()}"


class StatusChange(models.Model):
    """One step of the lifecycle, written by ``workflow.perform`` only."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="status_changes",
    )
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")


class RejudgeRun(models.Model):
    """One application of a criteria version to the register (``rejudge.apply``):
    where it stopped, so a run that was cut off resumes after the last batch
    it committed."""

    catalog_label = models.CharField(_("criteria version"), max_length=100)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    total = models.PositiveIntegerField(_("applications"), default=0)
    done = models.PositiveIntegerField(_("re-judged"), default=0)
    changed = models.PositiveIntegerField(_("judgement changed"), default=0)
    worsened = models.PositiveIntegerField(_("verdict worse"), default=0)
    #: Applications are taken in primary-key order; every one up to this is done.
    last_application_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("re-judging run")
        verbose_name_plural = _("re-judging runs")

    def __str__(self) -> str:
        return f"{self.catalog_label} {self.done}/{self.total}"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


class ExitStep(models.Model):
    """EXIT-1..3 of the exit walk, created when the exit begins."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="exit_steps",
    )
    step = models.CharField(_("step"), max_length=8, choices=ExitStepCode.choices)
    done_at = models.DateTimeField(_("completed"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["application", "step"]
        verbose_name = _("exit step")
        verbose_name_plural = _("exit steps")
        constraints = [
            models.UniqueConstraint(fields=["application", "step"], name="exit_step_once")
        ]

    def __str__(self) -> str:
        return self.step

    @property
    def done(self) -> bool:
        return self.done_at is not None


# --------------------------------------------------------------------------- reminders


class ReminderLog(models.Model):
    """A daily reminder digest sent to one user (``reminders.py``): at most one a day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="reminder_logs",
    )
    date = models.DateField(_("date"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    item_count = models.PositiveIntegerField(_("items"), default=0)

    class Meta:
        ordering = ["-date", "user"]
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="reminder_once_a_day")]

    def __str__(self) -> str:
        return f"{self.user} {self.date}"
