"""The site's navigation, by role, for ``base.html``: every app's pages, so it
lives above the apps (a context processor in settings)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cloudjudge.web.audit import conf as audit_conf
from cloudjudge.web.register import permissions
from cloudjudge.web.registries import permissions as registry_permissions


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    entries = [("register:dashboard", _("Dashboard")), ("register:list", _("Register"))]
    if permissions.can_create_application(user):
        entries.append(("register:create", _("New application")))
    if permissions.can_review(user):
        entries.append(("register:reviews", _("Review queue")))
    entries.append(("register:catalog", _("Criteria")))
    if permissions.can_see_revisions(user):
        entries.append(("register:versions", _("Criteria versions")))
    if audit_conf.can_read(user):
        entries.append(("audit:list", _("Audit log")))
    if registry_permissions.can_view(user):
        entries.append(("registries:list", _("Public registries")))
    match = getattr(request, "resolver_match", None)
    current = f"{match.namespace}:{match.url_name}" if match else ""
    return {
        "nav": [
            {"url": reverse(name), "label": label, "current": name == current}
            for name, label in entries
        ]
    }
