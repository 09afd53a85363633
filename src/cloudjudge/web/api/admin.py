"""API tokens in the admin site: to see and revoke them. They are issued only
by ``cloudjudge manage apitoken`` (the token is shown once, at the console)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from cloudjudge.web.api.models import ApiToken
from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("prefix", "name", "user__username")
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected API tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked=False):
            token.revoke()
            trail.record(
                Action.UPDATE,
                request=request,
                obj=token,
                before={"revoked": False},
                after={"revoked": True},
            )
            count += 1
        self.message_user(request, f"{count} 件の API トークンを失効させました。", messages.SUCCESS)
