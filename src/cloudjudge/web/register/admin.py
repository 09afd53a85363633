"""The admin site: register entries (services) for the system administrator.
Applications, judgements and their history change only through the workflow."""

from django.contrib import admin

from cloudjudge.web.audit.admin import AuditedAdminMixin
from cloudjudge.web.register.models import Service


@admin.register(Service)
class ServiceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "provider",
        "listed_lgwan_asp",
        "listed_ismap",
        "listed_ismap_liu",
        "security_update_service",
    )
    search_fields = ("name", "provider")
