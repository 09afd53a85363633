"""The admin site shows the registry read-only: imports go through the
upload page or ``cloudjudge registry import`` and corrections through the
registry pages, where the security office's changes are audited."""

from django.contrib import admin

from cloudjudge.web.registries.models import (
    ListingCheck,
    RegistryEntry,
    RegistryLink,
    RegistrySnapshot,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RegistrySnapshot)
class RegistrySnapshotAdmin(ReadOnlyAdmin):
    list_display = ("kind", "imported_at", "source_name", "row_count", "is_current", "importer")
    list_filter = ("kind", "is_current")
    exclude = ("diff",)


@admin.register(RegistryEntry)
class RegistryEntryAdmin(ReadOnlyAdmin):
    list_display = ("kind", "number", "service_name", "provider", "expires_on", "withdrawn")
    list_filter = ("kind", "withdrawn", "renewal_pending")
    search_fields = ("number", "service_name", "provider")


@admin.register(RegistryLink)
class RegistryLinkAdmin(ReadOnlyAdmin):
    list_display = ("service", "kind", "number", "updated_at")


@admin.register(ListingCheck)
class ListingCheckAdmin(ReadOnlyAdmin):
    list_display = ("judgement", "checked_on")
