"""The local registry: snapshots of the public lists, their entries, the
registration numbers recorded for register services, and the registry check
kept next to every judgement.

* ``RegistrySnapshot`` — one import of one list (file, SHA-256, importer, time,
  the diff against the list as it stood). Exactly one per kind is current.
* ``RegistryEntry`` — one service on one list, keyed by (kind, number). An
  import upserts them; an entry missing from a newer list is kept, flagged
  ``removed_in`` that snapshot, and never counts as a listing. The security
  office may correct entries in the UI (audited).
* ``RegistryLink`` — the registration number / service code the security office
  recorded for a register ``Service`` on one list; without one, services are
  matched by normalised name and provider.
* ``ListingCheck`` — what the registry said about the service's listings when a
  judgement was made (one per judgement, never changed).
* ``RelinkProposal`` — an import found an entry renewed under a new number: the
  services linked to the old number are re-linked when the security office
  confirms (``relinks``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cloudjudge import registries as core
from cloudjudge.web.register.models import Judgement, Service


class Kind(models.TextChoices):
    ISMAP = "ismap", "ISMAP"
    ISMAP_LIU = "ismap_liu", "ISMAP-LIU"
    LGWAN_ASP = "lgwan_asp", "LGWAN-ASP"


# --------------------------------------------------------------------------- snapshot


class RegistrySnapshot(models.Model):
    """One import of one list: what was read, by whom, and what it changed."""

    kind = models.CharField(_("Kind"), max_length=16, choices=Kind.choices)
    source_name = models.CharField(_("File name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    content_sha256 = models.CharField(_("Content SHA-256"), max_length=64, blank=True)
    file_format = models.CharField(_("Format"), max_length=8, blank=True)
    sheet = models.CharField(_("Sheet"), max_length=255, blank=True)
    encoding = models.CharField(_("Encoding"), max_length=16, blank=True)
    row_count = models.PositiveIntegerField(_("Rows"))
    added_count = models.PositiveIntegerField(_("Added"), default=0)
    removed_count = models.PositiveIntegerField(_("Removed"), default=0)
    changed_count = models.PositiveIntegerField(_("Changed"), default=0)
    renewed_count = models.PositiveIntegerField(_("Renewed under a new number"), default=0)
    #: ``RegistryDiff.as_dict()`` against the entries on the list before this import.
    diff = models.JSONField(_("Diff"), default=dict, blank=True)
    #: ``Problem.as_dict()`` of every warning (unread notes, the example row skipped).
    warnings = models.JSONField(_("Warnings"), default=list, blank=True)
    importer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Imported by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("Imported at"), default=timezone.now)
    is_current = models.BooleanField(_("Current"), default=False)

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_current=True), name="registry_one_current_per_kind"
            )
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.imported_at)
        return f"{self.get_kind_display()} {when:%Y-%m-%d %H:%M} {self.source_name}"

    @property
    def summary(self) -> str:
        text = _("%(added)s added, %(removed)s removed, %(changed)s changed") % {
            "added": self.added_count,
            "removed": self.removed_count,
            "changed": self.changed_count,
        }
        if self.renewed_count:
            text += _(", %(renewed)s renewed under a new number") % {"renewed": self.renewed_count}
        return text


# --------------------------------------------------------------------------- entry


class RegistryEntryQuerySet(models.QuerySet):
    def on_list(self) -> RegistryEntryQuerySet:
        """Entries on the current list of their kind (not removed by a later import)."""
        return self.filter(removed_in__isnull=True)


class RegistryEntry(models.Model):
    """One service on one public list (see ``cloudjudge.registries.RegistryEntry``)."""

    kind = models.CharField(_("Kind"), max_length=16, choices=Kind.choices)
    number = models.CharField(_("Registration number / service code"), max_length=40)
    service_name = models.CharField(_("Service name"), max_length=300)
    provider = models.CharField(_("Provider"), max_length=300)
    category = models.CharField(_("Category"), max_length=200, blank=True)
    regions = models.JSONField(_("Regions"), default=list, blank=True)
    registered_on = models.DateField(_("Registered on"), null=True, blank=True)
    audit_period_end = models.DateField(_("End of the audited period"), null=True, blank=True)
    #: The last valid day by ISMAP基本規程 3.5 (``core.expiry_date``), set on save.
    expires_on = models.DateField(_("Expires on"), null=True, blank=True, editable=False)
    renewal_pending = models.BooleanField(_("Renewal pending"), default=False)
    #: ISMAP基本規程 3.5: valid past the expiry only if applied for by then.
    renewal_applied_on = models.DateField(_("Renewal applied for on"), null=True, blank=True)
    withdrawn = models.BooleanField(_("Withdrawn or cancelled"), default=False)
    lapsed = models.BooleanField(_("Lapsed"), default=False)
    suspended = models.BooleanField(_("Suspended"), default=False)
    #: The day the list gives for a withdrawal, lapse or suspension (from then on).
    status_since = models.DateField(_("Status since"), null=True, blank=True)
    source_url = models.URLField(_("URL"), max_length=500, blank=True)
    last_checked_on = models.DateField(_("Last checked on"), null=True, blank=True)
    name_key = models.CharField(max_length=300, editable=False)
    provider_key = models.CharField(max_length=300, editable=False)
    snapshot = models.ForeignKey(
        RegistrySnapshot,
        verbose_name=_("Last applied import"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
    )
    removed_in = models.ForeignKey(
        RegistrySnapshot,
        verbose_name=_("Import that removed it from the list"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="removed_entries",
    )
    #: The entry that renewed this one under a new number (set by an import).
    renewed_as = models.ForeignKey(
        "self",
        verbose_name=_("Renewed as"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewal_of",
    )
    updated_at = models.DateTimeField(_("Updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RegistryEntryQuerySet.as_manager()

    #: Fields a person may edit (the audit trail records these).
    EDITABLE_FIELDS = (
        "service_name",
        "provider",
        "category",
        "regions",
        "registered_on",
        "audit_period_end",
        "renewal_pending",
        "renewal_applied_on",
        "withdrawn",
        "lapsed",
        "suspended",
        "status_since",
        "source_url",
        "last_checked_on",
    )
    #: Fields an import sets from the file.
    IMPORTED_FIELDS = (
        "service_name",
        "provider",
        "category",
        "regions",
        "registered_on",
        "audit_period_end",
        "renewal_pending",
        "renewal_applied_on",
        "withdrawn",
        "lapsed",
        "suspended",
        "status_since",
        "source_url",
    )

    class Meta:
        ordering = ["kind", "number"]
        verbose_name = _("registry entry")
        verbose_name_plural = _("registry entries")
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="registry_entry_kind_number")
        ]
        indexes = [
            models.Index(fields=["kind", "name_key"], name="registry_entry_name"),
            models.Index(fields=["expires_on"], name="registry_entry_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} {self.service_name}"

    @property
    def on_list(self) -> bool:
        return self.removed_in_id is None

    def to_core(self) -> core.RegistryEntry:
        """The pure value the expiry and matching rules read."""
        return core.RegistryEntry(
            kind=self.kind,
            number=self.number,
            service_name=self.service_name,
            provider=self.provider,
            registered_on=self.registered_on,
            audit_period_end=self.audit_period_end,
            renewal_pending=self.renewal_pending,
            withdrawn=self.withdrawn,
            source_url=self.source_url,
            category=self.category,
            regions=tuple(self.regions or ()),
            lapsed=self.lapsed,
            suspended=self.suspended,
            status_since=self.status_since,
            renewal_applied_on=self.renewal_applied_on,
        )

    def set_from_core(self, entry: core.RegistryEntry) -> None:
        for name in self.IMPORTED_FIELDS:
            value = getattr(entry, name)
            setattr(self, name, list(value) if name == "regions" else value)

    def refresh_derived(self) -> None:
        """Normalised number and names, and the expiry by 3.5."""
        self.number = core.normalise_number(self.number)
        self.name_key = core.normalise_name(self.service_name or "")
        self.provider_key = core.normalise_provider(self.provider or "")
        self.expires_on = core.expiry_date(self.to_core())

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_derived()
        self.updated_at = timezone.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                "number",
                "name_key",
                "provider_key",
                "expires_on",
                "updated_at",
            }
        super().save(*args, **kwargs)

    def status_on(self, day, days_ahead: int = core.DEFAULT_DAYS_AHEAD) -> str:
        """``core.status_on``; ``renewed`` when off the list because it was
        renewed under a new number, ``removed`` when off it otherwise."""
        if not self.on_list:
            return "renewed" if self.renewed_as_id else "removed"
        return core.status_on(self.to_core(), day, days_ahead=days_ahead)


# --------------------------------------------------------------------------- links


class RegistryLink(models.Model):
    """The registration number (ISMAP, ISMAP-LIU) or service code (LGWAN-ASP)
    a register service carries on one list. With it the service is matched by
    number only; without it, by normalised name and provider."""

    service = models.ForeignKey(
        Service, verbose_name=_("Service"), on_delete=models.CASCADE, related_name="registry_links"
    )
    kind = models.CharField(_("Kind"), max_length=16, choices=Kind.choices)
    number = models.CharField(_("Registration number / service code"), max_length=40)
    updated_at = models.DateTimeField(_("Updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["service", "kind"]
        verbose_name = _("service registration number")
        verbose_name_plural = _("service registration numbers")
        constraints = [
            models.UniqueConstraint(fields=["service", "kind"], name="registry_link_once")
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.get_kind_display()} {self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.number = core.normalise_number(self.number)
        super().save(*args, **kwargs)


# --------------------------------------------------------------------------- judgement


class ListingCheckError(Exception):
    """A listing check is part of a judgement's record: it is never changed."""


class ListingCheck(models.Model):
    """What the registry said about the service's listings on the judgement date.

    ``results``: one dict per list kind (declared, counted, status, the entry
    matched and how); ``findings``: the notes shown on the application page
    (``level``, ``code``, ``kind``, ``message``)."""

    judgement = models.OneToOneField(
        Judgement,
        verbose_name=_("Judgement"),
        on_delete=models.PROTECT,
        related_name="listing_check",
    )
    checked_on = models.DateField(_("Checked on"))
    results = models.JSONField(_("Results"), default=list)
    findings = models.JSONField(_("Findings"), default=list)
    created_at = models.DateTimeField(_("Created at"), default=timezone.now)

    class Meta:
        verbose_name = _("registry check")
        verbose_name_plural = _("registry checks")

    def __str__(self) -> str:
        return f"{self.judgement_id} {self.checked_on}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ListingCheckError("listing checks cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):
        raise ListingCheckError("listing checks cannot be deleted")


# --------------------------------------------------------------------------- renewals


class RelinkDecision(models.TextChoices):
    PENDING = "pending", _("Awaiting confirmation")
    ACCEPTED = "accepted", _("Re-linked")
    REJECTED = "rejected", _("Kept as it was")
    SUPERSEDED = "superseded", _("Superseded by a later import")


class RelinkProposal(models.Model):
    """An import recognised ``old_entry`` renewed as ``new_entry`` under a new
    number; ``service`` was linked to the old one (by its recorded number, or
    by name when none was recorded). Confirming records the new number."""

    service = models.ForeignKey(
        Service, verbose_name=_("Service"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("Kind"), max_length=16, choices=Kind.choices)
    old_number = models.CharField(_("Old number"), max_length=40)
    new_number = models.CharField(_("New number"), max_length=40)
    old_entry = models.ForeignKey(
        RegistryEntry, verbose_name=_("Old entry"), on_delete=models.PROTECT, related_name="+"
    )
    new_entry = models.ForeignKey(
        RegistryEntry, verbose_name=_("New entry"), on_delete=models.PROTECT, related_name="+"
    )
    snapshot = models.ForeignKey(
        RegistrySnapshot,
        verbose_name=_("Found by the import"),
        on_delete=models.PROTECT,
        related_name="relink_proposals",
    )
    #: How the renewal was recognised (``core.renewals.HOW_LABELS``).
    how = models.CharField(_("Recognised by"), max_length=16)
    #: Whether the service had the old number recorded (else matched by name).
    had_number = models.BooleanField(_("Number recorded"), default=False)
    decision = models.CharField(
        _("Decision"),
        max_length=16,
        choices=RelinkDecision.choices,
        default=RelinkDecision.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("Decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("Created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("re-link proposal")
        verbose_name_plural = _("re-link proposals")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "kind"],
                condition=Q(decision="pending"),
                name="registry_one_pending_relink",
            )
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.get_kind_display()} {self.old_number} → {self.new_number}"

    @property
    def how_label(self) -> str:
        return core.HOW_LABELS.get(self.how, self.how)
