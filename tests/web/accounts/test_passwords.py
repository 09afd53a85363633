"""The password policy the system enforces (each rule, in Japanese), Argon2
hashing, and the forced change of an initial password at the first login."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.accounts.passwords import (
    CharacterClassesValidator,
    character_classes,
    generate_password,
)
from cloudjudge.web.audit.models import Action, AuditEntry

from .helpers import PASSWORD, log_in, path_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def yamada(department):
    return User.objects.create_user(
        username="yamadataro",
        email="yamada.taro@city.example.jp",
        first_name="Taro",
        last_name="Yamada",
        role=Role.APPLICANT,
        department=department,
        password=PASSWORD,
    )


def messages_for(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Ab3!xyZ", "このパスワードは短すぎます。最低 12 文字以上必要です。"),
        ("abcdefghijkmnop", "文字の種類が 1 種類しかありません"),
        ("kumonoue20262027", "文字の種類が 2 種類しかありません"),
        ("KUMO-NO-UE-SORA", "文字の種類が 2 種類しかありません"),
        ("Password1234", "このパスワードは一般的すぎます。"),
        ("Yamadataro2026", "似すぎています"),
    ],
)
def test_each_rule_refuses_with_a_japanese_message(yamada, password, expected):
    found = messages_for(password, yamada)
    assert any(expected in message for message in found), found


def test_the_character_class_message_names_the_classes(yamada):
    (message,) = messages_for("abcdefghijkmnop", yamada)
    assert message == (
        "このパスワードは文字の種類が 1 種類しかありません。"
        "英大文字・英小文字・数字・記号のうち 3 種類以上を使ってください。"
    )


@pytest.mark.parametrize(
    "password", ["Kumo-no-Ue-2026", "sora-ni-ukabu-7-KUMO", "KumonoUe20262027", "雲の上-Sora-2026!"]
)
def test_compliant_passwords_pass(yamada, password):
    assert messages_for(password, yamada) == []


def test_character_classes():
    assert character_classes("aB3-") == {"upper", "lower", "digit", "symbol"}
    assert character_classes("あいう漢字") == set()
    assert character_classes("ＡＢＣ") == {"upper"}  # full-width letters count as letters
    with pytest.raises(ValueError):
        CharacterClassesValidator(min_classes=5)
    assert "3 種類以上" in CharacterClassesValidator().get_help_text()


def test_the_policy_is_the_configured_one():
    names = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CharacterClassesValidator",
        "CommonPasswordValidator",
    ]
    assert settings.AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"] == {"min_length": 12}


def test_passwords_are_hashed_with_argon2(argon2_hashing, yamada):
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert identify_hasher(yamada.password).algorithm == "argon2"
    assert yamada.password.startswith("argon2$argon2id$")


def test_generated_passwords_satisfy_the_policy(yamada):
    for _ in range(20):
        password = generate_password(yamada)
        assert len(password) == 16
        assert character_classes(password) == {"upper", "lower", "digit", "symbol"}
        assert messages_for(password, yamada) == []


# --------------------------------------------------------------------------- first login


def test_an_initial_password_must_be_changed_at_the_first_login(yamada):
    yamada.must_change_password = True
    yamada.save()
    client = Client()
    response = log_in(client, "yamadataro")
    assert response.status_code == 302

    # Every page leads to the password change, which says why.
    for url in ("/", reverse("register:list"), reverse("account_settings")):
        response = client.get(url)
        assert path_of(response) == reverse("password_change"), url
    page = client.get(reverse("password_change")).content.decode()
    assert "初期パスワード" in page and "12 文字以上" in page

    url = reverse("password_change")

    def change(new, old=PASSWORD, confirm=None):
        return client.post(
            url,
            {
                "old_password": old,
                "new_password1": new,
                "new_password2": new if confirm is None else confirm,
                "next": "/applications/",
            },
        )

    # The policy applies, in Japanese, and the page stays.
    response = change("short-1A")
    assert response.status_code == 200
    assert "このパスワードは短すぎます。" in response.content.decode()
    response = change("alllowercaseletters")
    assert "英大文字・英小文字・数字・記号のうち 3 種類以上" in response.content.decode()
    response = change(PASSWORD)
    assert "現在のパスワードと別のもの" in response.content.decode()
    response = change("Sora-no-Iro-2026", old="wrong-old-password")
    assert response.status_code == 200
    assert "元のパスワードが間違っています" in response.content.decode()
    response = change("Sora-no-Iro-2026", confirm="Sora-no-Iro-2027")
    assert response.status_code == 200
    yamada.refresh_from_db()
    assert yamada.must_change_password and yamada.check_password(PASSWORD)

    # A compliant new password releases the user (and keeps them logged in).
    response = change("Sora-no-Iro-2026")
    assert response.status_code == 302 and response.url == "/applications/"
    yamada.refresh_from_db()
    assert not yamada.must_change_password
    assert yamada.check_password("Sora-no-Iro-2026")
    assert client.get("/").status_code == 200
    assert client.get(reverse("register:list")).status_code == 200
    assert AuditEntry.objects.filter(action=Action.PASSWORD_CHANGE, actor=yamada).count() == 1

    # The next login goes straight in.
    again = Client()
    assert path_of(log_in(again, "yamadataro", "Sora-no-Iro-2026")) == "/"
    assert again.get("/").status_code == 200


def test_the_password_change_page_stays_open_to_everyone(yamada):
    client = Client()
    log_in(client, "yamadataro")
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Sora-no-Iro-2026",
            "new_password2": "Sora-no-Iro-2026",
        },
    )
    assert path_of(response) == "/"
    assert "パスワードを変更しました。" in client.get("/").content.decode()


def test_a_mandatory_role_changes_the_password_then_enrols(make_user):
    user = make_user(Role.SECURITY)
    user.set_password(PASSWORD)
    user.must_change_password = True
    user.save()
    client = Client()
    log_in(client, user.username)
    assert path_of(client.get("/")) == reverse("password_change")
    client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Sora-no-Iro-2026",
            "new_password2": "Sora-no-Iro-2026",
        },
    )
    assert path_of(client.get("/")) == reverse("otp_setup")


def test_an_administrator_set_password_is_an_initial_password(yamada, make_user, login):
    from django.contrib.auth.models import Permission

    admin = make_user(Role.ADMIN, is_staff=True)
    admin.user_permissions.set(Permission.objects.filter(codename__in=["change_user", "view_user"]))
    client = login(admin)
    url = reverse("admin:auth_user_password_change", args=[yamada.pk])
    response = client.post(
        url,
        {
            "password1": "Sora-no-Iro-2026",
            "password2": "Sora-no-Iro-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    yamada.refresh_from_db()
    assert yamada.must_change_password and yamada.check_password("Sora-no-Iro-2026")
    assert AuditEntry.objects.filter(action=Action.PASSWORD_CHANGE, actor=admin).exists()

    # The admin's form applies the policy too.
    response = client.post(url, {"password1": "password", "password2": "password"})
    assert response.status_code == 200
    assert "このパスワードは短すぎます。" in response.content.decode()
