from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "cloudjudge.web.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from cloudjudge.web.audit import checks, signals

        signals.connect()
        checks.register()
