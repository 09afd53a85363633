from django.urls import path

from cloudjudge.web.accounts import oidc_signin, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("oidc/login/", oidc_signin.LoginView.as_view(), name="oidc_login"),
    path("oidc/callback/", oidc_signin.CallbackView.as_view(), name="oidc_callback"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("settings/", views.account_settings, name="account_settings"),
    path("mfa/verify/", views.otp_verify, name="otp_verify"),
    path("mfa/setup/", views.otp_setup, name="otp_setup"),
    path("mfa/recovery-codes/", views.otp_recovery_codes, name="otp_recovery_codes"),
    path("mfa/recovery-codes/new/", views.otp_recovery_regenerate, name="otp_recovery_regenerate"),
    path("mfa/disable/", views.otp_disable, name="otp_disable"),
]
