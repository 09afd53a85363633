"""The registry list's search folds width and kana like every search box
(``web/search.py``), besides its own number and name keys."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_registries_fold(login, security, load, fixture_path):
    load("ismap", fixture_path("ismap_list.xlsx"))
    client = login(security)

    def numbers(q):
        page = client.get("/registries/", {"q": q}).content.decode()
        return sorted(set(re.findall(r"C2\d-\d{4}-\d", page)))

    assert numbers("ﾄﾞﾗｲﾌﾞ") == ["C22-0202-1"]
    assert numbers("abcどらいぶ") == ["C22-0202-1"]
