from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistriesConfig(AppConfig):
    name = "cloudjudge.web.registries"
    label = "registries"
    verbose_name = _("Public lists (ISMAP, ISMAP-LIU, LGWAN-ASP)")
