"""Choosing a service from the register on the application form, in Chromium:
the block for a service not in the register yet is hidden (and not sent),
and the picked service's registry status is shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.register.models import Service

from .conftest import SCREENSHOTS, Screenshots

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kumo-no-Ue-2026-picker!"


def test_picking_a_service_hides_the_new_service_block(page: Page, log_in, transactional_db):
    shot = Screenshots(SCREENSHOTS / "service-picker")
    shimin = Department.objects.create(code="shimin", name="市民課")
    User.objects.create_user(
        username="hanako", password=PASSWORD, role=Role.APPLICANT, department=shimin
    )
    service = Service(name="登録済みグループウェア", provider="サンプル株式会社")
    service.listings = ["ismap"]
    service.save()
    log_in(page, "hanako", PASSWORD)
    page.goto("/applications/new/")
    new_service = page.locator("#new-service")
    expect(new_service).to_be_visible()
    expect(page.get_by_label("ローカルブレイクアウト方式ではない")).to_have_count(0)
    page.get_by_label("台帳に登録済みのサービス").select_option(label=str(service))
    expect(new_service).to_be_hidden()
    expect(page.locator("#service-status")).to_contain_text(
        "登録済みグループウェア の本日の登録状況"
    )
    expect(page.locator("#service-status")).to_contain_text("判定に反映")
    shot(page, "service-picked")
    page.get_by_label("台帳に登録済みのサービス").select_option(index=0)
    expect(new_service).to_be_visible()
