"""The registry status on the application page is the current one (issue 11):
an application judged before the ISMAP list was imported says the list is not
imported; once it is imported, the same page — with no other step — says
the listing was confirmed, and never the stale 「未取込」."""

from __future__ import annotations

import datetime
import re

from .conftest import audit_end_for_expiry, ismap_csv

NAME, PROVIDER = "さくらぎクラウド基盤", "株式会社桜木システムズ"


def registry_text(client, app) -> str:
    page = client.get(f"/applications/{app.pk}/").content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_page_follows_an_import_without_a_stale_not_imported(
    load, make_service, make_application, login, security, today
):
    service = make_service(name=NAME, provider=PROVIDER, listings=("ismap",))
    app = make_application(service=service)
    client = login(security)
    before = registry_text(client, app)
    assert "ISMAP の登録簿が未取込のため確認できません" in before

    expiry = today + datetime.timedelta(days=400)
    load("ismap", ismap_csv(("C21-0101-1", NAME, PROVIDER, audit_end_for_expiry(expiry), False, 0)))
    after = registry_text(client, app)
    assert "未取込" not in after
    assert "申告された掲載はすべて登録簿で確認できました。" in after


def test_the_page_follows_a_linked_number(
    load, make_service, make_application, login, security, today
):
    """A service the register names otherwise than the list: not found until
    the office links its number; then the same page says it is confirmed."""
    expiry = today + datetime.timedelta(days=400)
    load("ismap", ismap_csv(("C21-0101-1", NAME, PROVIDER, audit_end_for_expiry(expiry), False, 0)))
    service = make_service(name="桜木の会議室", provider="桜木", listings=("ismap",))
    app = make_application(service=service)
    client = login(security)
    before = registry_text(client, app)
    assert "申告された掲載はすべて登録簿で確認できました。" not in before

    linked = client.post(
        f"/registries/services/{service.pk}/", {"ismap": "C21-0101-1"}, follow=True
    )
    assert linked.status_code == 200
    after = registry_text(client, app)
    assert "未取込" not in after
    assert "申告された掲載はすべて登録簿で確認できました。" in after
