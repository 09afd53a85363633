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

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from cloudjudge.web.figures import changed as figures_changed
        from cloudjudge.web.register.models import Application, ChecklistItem

        def application_changed(**kwargs) -> None:
            figures_changed(applications=True)

        def row_changed(**kwargs) -> None:
            figures_changed()

        for model, changed in ((Application, application_changed), (ChecklistItem, row_changed)):
            for signal in (post_save, post_delete):
                signal.connect(changed, sender=model, weak=False, dispatch_uid=f"figures-{model}")

    def reconciled_kinds(self) -> list[Kind]:
        """The register's rows ``cloudjudge audit verify`` reconciles with its log."""
        from cloudjudge.web.register.reconciled import register_kinds

        return register_kinds()
