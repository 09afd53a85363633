"""The password policy the system enforces (別紙1 ① No.5: password complexity
enforced by the system) and the generator of initial passwords.

The policy is ``AUTH_PASSWORD_VALIDATORS`` in the settings: at least 12
characters, at least three of the four character classes (this module's
:class:`CharacterClassesValidator`), not a common password, not similar to the
user's name or e-mail address. Every form that sets a password (the password
change page, the admin) runs it; so does :func:`generate_password`, whose
passwords are initial passwords the user must change at the first login.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

#: The character classes a password draws from: (description, test).
CHARACTER_CLASSES = (
    ("upper", str.isupper),
    ("lower", str.islower),
    ("digit", str.isdigit),
    ("symbol", lambda c: not c.isalnum() and not c.isspace()),
)


def character_classes(password: str) -> set[str]:
    """The classes (``upper``, ``lower``, ``digit``, ``symbol``) ``password`` uses.

    Letters without case (e.g. kana and kanji) count as none of them: they are
    not what the rule asks for, and they do not weaken a password either."""
    return {name for name, test in CHARACTER_CLASSES if any(test(c) for c in password)}


class CharacterClassesValidator:
    """At least ``min_classes`` of: upper-case letters, lower-case letters,
    digits, symbols."""

    def __init__(self, min_classes: int = 3):
        if not 1 <= min_classes <= len(CHARACTER_CLASSES):
            raise ValueError(f"min_classes must be 1..{len(CHARACTER_CLASSES)}")
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        used = len(character_classes(password))
        if used < self.min_classes:
            raise ValidationError(
                self.get_error_message(used),
                code="password_too_few_character_classes",
                params={"min_classes": self.min_classes, "used": used},
            )

    def get_error_message(self, used: int) -> str:
        return ngettext(
            "This password uses %(used)s kind of character. Use at least %(min_classes)s "
            "of: upper-case letters, lower-case letters, digits and symbols.",
            "This password uses %(used)s kinds of characters. Use at least %(min_classes)s "
            "of: upper-case letters, lower-case letters, digits and symbols.",
            used,
        )

    def get_help_text(self) -> str:
        return _(
            "Your password must use at least %(min_classes)s of: upper-case letters, "
            "lower-case letters, digits and symbols."
        ) % {"min_classes": self.min_classes}


#: Initial passwords: no look-alike characters (0/O, 1/l/I), symbols that are
#: easy to type on a Japanese keyboard and survive a shell and an e-mail.
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_LOWER = "abcdefghijkmnopqrstuvwxyz"
_DIGITS = "23456789"
_SYMBOLS = "-_.!#%+=@"
_ALPHABET = _UPPER + _LOWER + _DIGITS + _SYMBOLS


def generate_password(user=None, length: int = 16) -> str:
    """A random password of ``length`` characters with all four character
    classes that passes the configured policy for ``user``."""
    if length < 12:
        raise ValueError("initial passwords have at least 12 characters")
    while True:
        chars = [secrets.choice(group) for group in (_UPPER, _LOWER, _DIGITS, _SYMBOLS)]
        chars += [secrets.choice(_ALPHABET) for _ in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        try:
            validate_password(password, user)
        except ValidationError:  # e.g. by chance similar to the user name
            continue
        return password
