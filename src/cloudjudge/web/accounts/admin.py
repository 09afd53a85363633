from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.http import HttpResponseRedirect
from django.urls import reverse
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
        "source",
        "is_active",
        "must_change_password",
    )
    list_filter = ("role", "department", "source", "is_active", "must_change_password")
    change_password_form = InitialPasswordChangeForm
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Role in the register"), {"fields": ("role", "department")}),
        (_("Login"), {"fields": ("source", "directory_checked_at", "must_change_password")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Role in the register"), {"fields": ("role", "department")}),
    )
    #: Only a superuser may hand out the powers that bypass the roles.
    privileged_fields = ("is_superuser", "groups", "user_permissions")

    #: What the directory sets at every sign-in of its accounts (``directory.apply``).
    directory_fields = (
        "role",
        "department",
        "first_name",
        "last_name",
        "email",
        "is_staff",
        "source",
        "must_change_password",
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = (*super().get_readonly_fields(request, obj), "directory_checked_at")
        if not request.user.is_superuser:
            readonly += self.privileged_fields
        if obj is not None and obj.from_directory:
            readonly += self.directory_fields
        return readonly

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.from_directory:
            note = _(
                "The role, department, name and e-mail address come from the directory "
                "(%(source)s) at every sign-in: change them there. Closing the account here "
                "(not active) keeps it closed whatever the directory says."
            ) % {"source": obj.get_source_display()}
            fieldsets = [
                (name, {**options, "description": note} if i == 0 else options)
                for i, (name, options) in enumerate(fieldsets)
            ]
        return fieldsets

    def save_model(self, request, obj, form, change):
        if not change:  # the password typed in the add form is an initial password
            obj.must_change_password = True
        super().save_model(request, obj, form, change)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, id)
        if user is not None and user.from_directory:
            messages.error(
                request, _("This account's password is kept by the directory: change it there.")
            )
            return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
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
