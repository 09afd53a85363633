from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from cloudjudge.web.accounts.models import Department, User
from cloudjudge.web.audit import trail
from cloudjudge.web.audit.admin import AuditedAdminMixin
from cloudjudge.web.audit.models import Action


@admin.register(Department)
class DepartmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class InitialPasswordChangeForm(AdminPasswordChangeForm):
    """A password set by an administrator is an initial password: its user
    must choose their own at the next login."""

    def save(self, commit=True):
        user = super().save(commit=False)
        if user.has_usable_password():
            user.must_change_password = True
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    list_display = (
        "username",
        "last_name",
        "first_name",
        "role",
        "department",
        "is_active",
        "must_change_password",
    )
    list_filter = ("role", "department", "is_active", "must_change_password")
    change_password_form = InitialPasswordChangeForm
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Role in the register"), {"fields": ("role", "department")}),
        (_("Login"), {"fields": ("must_change_password",)}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Role in the register"), {"fields": ("role", "department")}),
    )
    #: Only a superuser may hand out the powers that bypass the roles.
    privileged_fields = ("is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += self.privileged_fields
        return readonly

    def save_model(self, request, obj, form, change):
        if not change:  # the password typed in the add form is an initial password
            obj.must_change_password = True
        super().save_model(request, obj, form, change)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            if user is not None:
                trail.record(
                    Action.PASSWORD_CHANGE,
                    request=request,
                    obj=user,
                    extra={"by_administrator": True},
                )
        return response
