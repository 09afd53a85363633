from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuestionnairesConfig(AppConfig):
    """Vendor questionnaires read back into the register, waiting for review."""

    name = "cloudjudge.web.questionnaires"
    label = "questionnaires"
    verbose_name = _("Vendor questionnaires")
