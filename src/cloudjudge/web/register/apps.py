from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from cloudjudge.web.audit.reconcile import Kind


class RegisterConfig(AppConfig):
    name = "cloudjudge.web.register"
    label = "register"
    verbose_name = _("Cloud service register")

    def reconciled_kinds(self) -> list[Kind]:
        """The register's rows ``cloudjudge audit verify`` reconciles with its log."""
        from cloudjudge.web.register.reconciled import register_kinds

        return register_kinds()
