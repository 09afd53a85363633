"""Who works in the register: departments and users with one role each.

What each role may do lives in ``cloudjudge.web.register.permissions`` (which
applications) and ``cloudjudge.web.register.workflow`` (which actions)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    SECURITY = "security", _("Security office")
    CISO = "ciso", _("CISO")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("System administrator")


class Source(models.TextChoices):
    """Where a user's role, department and password are kept."""

    LOCAL = "local", _("cloudjudge (local account)")
    LDAP = "ldap", _("Directory (LDAP / Active Directory)")
    OIDC = "oidc", _("Directory (OpenID Connect)")


class Department(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.APPLICANT)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_(
            "Set for a password someone else chose (a new account, a reset): the user must "
            "choose their own at the next login."
        ),
    )

    #: Not stored: the department a directory named that the register does not
    #: know, set by directory sign-in for the login page to say so.
    department_not_found: str = ""

    source = models.CharField(
        _("account source"),
        max_length=8,
        choices=Source.choices,
        default=Source.LOCAL,
        help_text=_(
            "A directory account takes its role, department, name and e-mail address from "
            "the directory at every sign-in; they cannot be edited here. It has no local "
            "password. A local account with this setting changed to a directory is taken "
            "over by the directory at its next sign-in."
        ),
    )
    directory_checked_at = models.DateTimeField(
        _("last confirmed by the directory"), null=True, blank=True, editable=False
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def display_name(self) -> str:
        """Family name first, as Japanese names are written."""
        full = f"{self.last_name} {self.first_name}".strip()
        return full or self.username

    @property
    def from_directory(self) -> bool:
        """Whether the directory owns this account's role, department and password."""
        return self.source != Source.LOCAL

    def __str__(self) -> str:
        return self.display_name
