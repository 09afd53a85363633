"""Per-user API tokens, sent as ``Authorization: Bearer <token>``.

A token is ``cj_`` + ``secrets.token_urlsafe(32)`` (256 random bits). Only its
SHA-256 is stored: a copy of the database gives nobody a working token, and a
token is found by looking its hash up (an index), never by comparing the
secret itself with stored values, so response times say nothing about it.
A fast hash is enough for a random secret of this length (no dictionary to
try, unlike a password). The token is shown once, when it is issued
(``cloudjudge manage apitoken NAME``); ``prefix`` lets people tell tokens apart
in lists without revealing them.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "cj_"
#: Characters of the token kept (after ``cj_``) for display.
DISPLAY_CHARS = 6
#: ``last_used_at`` is written at most this often per token (one write per
#: request would make every read a write).
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
#: ``secrets.token_urlsafe(32)`` is 43 characters; anything far off is not a token.
_MAX_TOKEN_LENGTH = 100


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token: what is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    token_hash = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked = models.BooleanField(_("revoked"), default=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        label = f"{self.name} " if self.name else ""
        return f"{label}({self.prefix}…)"

    @classmethod
    def issue(cls, user, name: str = "") -> tuple[ApiToken, str]:
        """A new token for ``user``: the saved row and the token itself, which
        exists nowhere else from now on."""
        token = new_token()
        row = cls.objects.create(
            user=user,
            name=name,
            prefix=token[: len(TOKEN_PREFIX) + DISPLAY_CHARS],
            token_hash=hash_token(token),
        )
        return row, token

    @classmethod
    def lookup(cls, token: str) -> ApiToken | None:
        """The live token (not revoked, its user active) this secret is, or None."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN_LENGTH:
            return None
        # One indexed lookup, no ordering or join condition to compile: this
        # runs on every API request.
        try:
            row = cls.objects.select_related("user").get(token_hash=hash_token(token))
        except cls.DoesNotExist:
            return None
        return row if not row.revoked and row.user.is_active else None

    def touch(self, now: datetime.datetime | None = None) -> None:
        """Record a use (at most once per ``LAST_USED_RESOLUTION``)."""
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION:
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    def revoke(self) -> None:
        if not self.revoked:
            self.revoked = True
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked", "revoked_at"])
