"""The English UI is complete where the UI speaks (issue 11): with English
chosen, the words the application itself puts on its pages — headings,
labels, buttons, table headers, choices, legends, the navigation and the
messages — are English. What stays Japanese by design is data: the catalog's
text, the engine's findings, and what people typed (service, department and
user names, notes); those are left out by name below."""

from __future__ import annotations

import html
import re

import pytest

from cloudjudge.catalog import default_catalog
from cloudjudge.web.accounts.models import Department, User
from cloudjudge.web.register.models import Application, Service

from . import test_no_codes_shown as forms

#: the pages of a whole journey, with the fixture that makes them
journey, pages = forms.journey, forms.pages

pytestmark = pytest.mark.django_db

#: Each language's own name, shown in its own language in the language menu.
OWN_NAMES = ("日本語",)
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
CHROME = re.compile(
    r"<(h1|h2|h3|label|button|th|legend|summary|option|nav)\b[^>]*>(.*?)</\1>", re.S | re.I
)


def chrome(page: str) -> list[str]:
    page = re.sub(r"<(script|style|code|pre)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inner)).split())
        for _tag, inner in CHROME.findall(page)
    ]


def data_words() -> list[str]:
    """What is Japanese because it is data, longest first (removed before looking)."""
    catalog = default_catalog()
    words = [catalog.title, catalog.publisher, *OWN_NAMES]
    words += [item.title for item in catalog.items] + [c.ref for c in catalog.clauses]
    words += [str(s) for s in Service.objects.all()] + [s.name for s in Service.objects.all()]
    words += list(Department.objects.values_list("name", flat=True))
    for user in User.objects.all():
        words += [user.get_full_name(), user.last_name, user.first_name]
    words += [str(a) for a in Application.objects.select_related("service")]
    return sorted({w for w in words if w}, key=len, reverse=True)


def test_with_english_chosen_the_ui_speaks_english(login, journey, applicant, security, auditor):
    users = {"applicant": applicant, "security": security, "auditor": auditor}
    data = data_words()
    found = {}
    for role, urls in pages(journey).items():
        client = login(users[role])
        client.cookies["django_language"] = "en"
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            assert response.headers.get("Content-Language") == "en", url
            texts = chrome(response.content.decode())
            for word in data:
                texts = [t.replace(word, " ") for t in texts]
            japanese = sorted({t for t in texts if JAPANESE.search(t)})
            if japanese:
                found[f"{role} {url}"] = japanese
    assert not found, "\n".join(f"{where}: {texts}" for where, texts in found.items())
