from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegisterConfig(AppConfig):
    name = "cloudjudge.web.register"
    label = "register"
    verbose_name = _("Cloud service register")
