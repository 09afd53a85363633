from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "cloudjudge.web.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from cloudjudge.web.accounts import ldap_signin, sessions

        sessions.connect()
        ldap_signin.connect()
