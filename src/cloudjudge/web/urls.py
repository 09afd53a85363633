"""URLs: the register at the root, accounts, the language switch, the admin.

Seams for the next pieces: the HTTP API mounts under ``api/v1/`` (its views
do their own token auth and must be marked ``login_not_required``), documents and
exports are in ``documents/urls.py`` under the same paths.
"""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("cloudjudge.web.register.urls")),
    path("", include("cloudjudge.web.documents.urls")),
    path("", include("cloudjudge.web.questionnaires.urls")),
    path("accounts/", include("cloudjudge.web.accounts.urls")),
    path("audit/", include("cloudjudge.web.audit.urls")),
    path("registries/", include("cloudjudge.web.registries.urls")),
    path("api/v1/", include("cloudjudge.web.api.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]
