"""The registry pages follow the language switch: Japanese by default (the
texts as they always were), English when the language cookie says ``en``."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation


@pytest.fixture(autouse=True)
def _default_language_after():
    """The locale middleware leaves the request's language active in the test
    thread; put the default back so later tests see Japanese."""
    yield
    translation.deactivate()


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_registry_list_is_japanese_by_default(login, security, load, fixture_path):
    load("ismap", fixture_path("ismap_list.xlsx"))
    page = login(security).get("/registries/").content.decode()
    assert "公開リストの登録簿（ISMAP・ISMAP-LIU・LGWAN-ASP）" in page
    assert "すべての種類" in page and "本日の状態" in page
    assert "サービス名称" in page and "有効期限" in page
    assert ">公開リスト<" in page  # the navigation entry
    assert "Registry of the public lists" not in page


def test_the_registry_list_in_english(login, security, load, fixture_path):
    load("ismap", fixture_path("ismap_list.xlsx"))
    client = english(login(security))
    response = client.get("/registries/")
    page = response.content.decode()
    assert response["Content-Language"] == "en"
    assert "Registry of the public lists (ISMAP, ISMAP-LIU, LGWAN-ASP)" in page
    assert "All kinds" in page and "Status today" in page
    assert "Service name" in page and "Expires on" in page
    assert "Public registries" in page  # the navigation entry
    assert "Valid" in page  # a status label
    for japanese in ("公開リスト", "登録簿", "サービス名称", "有効期限", "本日の状態", "件"):
        assert japanese not in page, japanese


def test_the_language_switch_turns_the_upload_page_english(login, security):
    client = login(security)
    page = client.get("/registries/import/").content.decode()
    assert "<h1>登録簿の取込み</h1>" in page and "ファイルを取り込む" in page
    assert "ファイル（.xlsx・.ods・.csv）" in page and ">取り込む</button>" in page

    client.post(reverse("set_language"), {"language": "en", "next": "/registries/import/"})
    page = client.get("/registries/import/").content.decode()
    assert "<h1>Registry import</h1>" in page and "Import a file" in page
    assert "File (.xlsx, .ods or .csv)" in page and ">Import</button>" in page
    assert "Not imported" in page
    for japanese in ("登録簿", "取り込む", "ファイル", "未取込"):
        assert japanese not in page, japanese


def test_upload_problems_in_english(login, security, fixture_path):
    client = english(login(security))
    data = fixture_path("broken_many.xlsx").read_bytes()
    response = client.post(
        "/registries/import/",
        {"kind": "ismap", "file": SimpleUploadedFile("broken_many.xlsx", data)},
    )
    page = response.content.decode()
    assert "Not imported (" in page and "problems)" in page
    assert "Nothing was imported" in page
    # The problems themselves come from the pure core and stay Japanese.
    assert "重複しています" in page
