"""Account pages: the login and logout (local, LDAP and OpenID Connect
accounts), the password change (forced after an initial password), the
second factor (verify at login, enrol, recovery codes) and account settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import DEVICE_ID_SESSION_KEY

from cloudjudge.web.accounts import directory, mfa, oidc_signin
from cloudjudge.web.accounts.forms import EnrolForm, PasswordChangeForm, TokenForm
from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action

#: Session key of the recovery codes waiting to be shown (once).
NEW_CODES = "cloudjudge_new_recovery_codes"


def next_url(request, default: str | None = None) -> str:
    """The ``next`` parameter if it is a page of this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default or settings.LOGIN_REDIRECT_URL)


# --------------------------------------------------------------------------- login, logout


class LoginView(auth_views.LoginView):
    """Django's login form (local and LDAP accounts) and, when configured, the
    button that signs in through the OpenID Connect provider."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["ldap_enabled"] = settings.CLOUDJUDGE_LDAP_ENABLED
        context["oidc_enabled"] = oidc_signin.enabled()
        context["oidc_provider"] = oidc_signin.provider_name()
        context["refusal"] = getattr(self.request, "directory_refusal", None)
        return context

    def form_valid(self, form):
        department = getattr(form.get_user(), "department_not_found", "")
        response = super().form_valid(form)
        if department:
            messages.warning(self.request, directory.department_missing_message(department))
        return response


class LogoutView(auth_views.LogoutView):
    """After an OpenID Connect sign-in, logging out here logs out at the
    provider too (its end-session page comes back to the login page)."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated and oidc_signin.signed_in_through_oidc(request):
            target = oidc_signin.provider_logout_url(request)
            auth_logout(request)
            return HttpResponseRedirect(target)
        return super().post(request, *args, **kwargs)


# --------------------------------------------------------------------------- password


@method_decorator(never_cache, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """A local account's password; a directory account's is changed in the directory."""

    form_class = PasswordChangeForm
    template_name = "registration/password_change.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.from_directory:
            messages.info(request, _("Your password is managed by the directory: change it there."))
            return redirect("account_settings")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["forced"] = self.request.user.must_change_password
        context["next"] = self.request.POST.get("next") or self.request.GET.get("next", "")
        return context

    def form_valid(self, form):
        user = form.save(commit=False)
        user.must_change_password = False
        user.save()
        update_session_auth_hash(self.request, user)
        trail.record(Action.PASSWORD_CHANGE, request=self.request, obj=user)
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(next_url(self.request))


# --------------------------------------------------------------------------- second factor


@never_cache
@sensitive_post_parameters("otp_token")
def otp_verify(request):
    """The second step of the login: a token from the app or a recovery code."""
    user = request.user
    if mfa.is_verified(request):
        return redirect(next_url(request))
    if not mfa.has_device(user):
        return redirect(_with_next(request, "otp_setup"))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa.verify(request, form.cleaned_data["otp_token"])
        except mfa.Throttled:
            device = None
            form.add_error(
                "otp_token",
                _("Too many wrong codes in a row. Wait a few seconds and try again."),
            )
        else:
            if device is None:
                form.add_error("otp_token", _("The code is not correct or has already been used."))
        if device is None:
            trail.record(
                Action.LOGIN_FAILED,
                request=request,
                obj=user,
                extra={"username": user.get_username(), "second_factor": True},
            )
        else:
            if device.persistent_id.startswith("otp_static."):
                left = mfa.recovery_codes_left(user)
                messages.warning(
                    request,
                    _(
                        "You logged in with a recovery code. %(left)s recovery codes are "
                        "left: if your authenticator is lost, set up a new one in your "
                        "account settings."
                    )
                    % {"left": left},
                )
            return redirect(next_url(request))
    return render(
        request,
        "registration/otp_verify.html",
        {"form": form, "next": request.GET.get("next") or request.POST.get("next", "")},
    )


@never_cache
@sensitive_post_parameters("otp_token")
def otp_setup(request):
    """Enrol an authenticator app: QR code and secret, confirmed by a first token.

    Open to anyone without a device, and to a verified user (to replace the
    app, e.g. on a new phone); never to someone who has a device but has not
    passed it in this session (that would let a stolen password replace it)."""
    user = request.user
    if mfa.has_device(user) and not mfa.is_verified(request):
        return redirect(_with_next(request, "otp_verify"))
    device = mfa.pending_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        had_device = mfa.has_authenticator(user)
        codes = mfa.confirm_device(request, device, form.cleaned_data["otp_token"])
        if codes is None:
            form.add_error(
                "otp_token",
                _("The code is not correct. Check the time on your phone and try again."),
            )
        else:
            trail.record(
                Action.UPDATE,
                request=request,
                obj=user,
                before={"two_factor": "authenticator" if had_device else "none"},
                after={"two_factor": "authenticator"},
                extra={"recovery_codes": "issued"},
            )
            request.session[NEW_CODES] = codes
            messages.success(request, _("Two-factor authentication is on."))
            return redirect(_with_next(request, "otp_recovery_codes"))
    uri = mfa.provisioning_uri(device)
    return render(
        request,
        "registration/otp_setup.html",
        {
            "form": form,
            "qr_svg": mfa.qr_svg(uri),
            "secret": mfa.secret_base32(device),
            "account": user.get_username(),
            "issuer": settings.OTP_TOTP_ISSUER,
            "replacing": mfa.has_authenticator(user),
            "mandatory": mfa.is_mandatory(user),
            "next": request.GET.get("next") or request.POST.get("next", ""),
        },
    )


@never_cache
def otp_recovery_codes(request):
    """The new recovery codes, shown this once (they are stored only as codes
    that are deleted when used; nobody can show them again)."""
    codes = request.session.pop(NEW_CODES, None)
    if not codes:
        return redirect("account_settings")
    return render(
        request,
        "registration/otp_recovery_codes.html",
        {"codes": codes, "continue_url": next_url(request)},
    )


@require_POST
def otp_recovery_regenerate(request):
    if not (mfa.has_device(request.user) and mfa.is_verified(request)):
        return redirect("account_settings")
    request.session[NEW_CODES] = mfa.issue_recovery_codes(request.user)
    trail.record(
        Action.UPDATE,
        request=request,
        obj=request.user,
        extra={"recovery_codes": "reissued"},
    )
    messages.success(request, _("New recovery codes were made. The old ones no longer work."))
    return redirect("otp_recovery_codes")


@require_POST
def otp_disable(request):
    """Turn two-factor authentication off: only where it is optional, and only
    from a session that passed it."""
    user = request.user
    if mfa.is_mandatory(user):
        messages.error(request, _("Two-factor authentication is required for your role."))
        return redirect("account_settings")
    if mfa.has_device(user) and not mfa.is_verified(request):
        return redirect("otp_verify")
    if mfa.remove_devices(user):
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        trail.record(
            Action.UPDATE,
            request=request,
            obj=user,
            before={"two_factor": "authenticator"},
            after={"two_factor": "none"},
        )
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("account_settings")


@never_cache
def account_settings(request):
    user = request.user
    return render(
        request,
        "registration/account_settings.html",
        {
            "has_authenticator": mfa.has_authenticator(user),
            "codes_left": mfa.recovery_codes_left(user),
            "mandatory": mfa.is_mandatory(user),
            "verified": mfa.is_verified(request),
            "idle_minutes": settings.CLOUDJUDGE_SESSION_IDLE_MINUTES,
        },
    )


def _with_next(request, name: str) -> str:
    url = reverse(name)
    target = request.GET.get("next") or request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        url = f"{url}?{urlencode({'next': target})}"
    return url


# --------------------------------------------------------------------------- lockout


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a login while locked out (``AXES_LOCKOUT_CALLABLE``)."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    return render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
