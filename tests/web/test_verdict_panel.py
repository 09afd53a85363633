"""The web verdict panel (issue #9): rendered through ``cloudjudge.presentation``.

The live preview, the judgement page and the application pages show the
presenter's order and words: findings by weight with their rule ID (linked to
the catalog page), required measures grouped by source with who carries them
out and (on the judgement page) their full text, and for a prohibited decision
the remedies — live, while the form is filled in. Ruling 3's fact
``download_by_contractor`` is a form field and an API field; ruling 5's
confirmation finding sits next to the 特定個人情報 field.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

import cloudjudge
from cloudjudge.catalog import default_catalog
from cloudjudge.presentation import present
from cloudjudge.presentation.decision import GROUP_ORDER
from cloudjudge.web.api.models import ApiToken
from cloudjudge.web.register.models import Application

pytestmark = pytest.mark.django_db

CATALOG = default_catalog()


def form(**overrides):
    data = {
        "purpose": "委託先との図面の共有",
        "confidentiality": "3B",
        "method": "internet_pc",
        "network": "",
        "new_service-name": "オンラインストレージ",
        "new_service-provider": "Example Storage 株式会社",
        "new_service-isms_certifications": ["iso27001"],
        "save": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def preview(client, **overrides):
    return client.post(reverse("register:preview"), form(**overrides), HTTP_HX_REQUEST="true")


def test_a_prohibited_preview_shows_its_remedies_live_and_no_measures(login, applicant):
    response = preview(login(applicant))
    decision = response.context["decision"]
    assert decision["verdict"] == "prohibited" and decision["remedies"]
    shown = text(response)
    assert "利用できるようにする変更" in shown
    for remedy in decision["remedies"]:
        assert remedy["message"] in shown
        for change in remedy["changes"]:
            assert change["field"] not in shown  # the field's words, never its code
    assert "禁止のため、対策は求めません。" in shown
    assert "必要な対策" not in shown
    # Following the first remedy in the form lifts the prohibition.
    first = decision["remedies"][0]["changes"]
    assert first == [{"field": "connection.method", "from": "internet_pc", "to": "lgwan_asp"}]
    lifted = preview(login(applicant), method="lgwan_asp").context["decision"]
    assert lifted["verdict"] == decision["remedies"][0]["verdict"]


def test_3a_says_there_is_no_way_out(login, applicant):
    response = preview(login(applicant), confidentiality="3A")
    assert response.context["decision"]["remedies"] == []
    assert "禁止の理由は取り扱う情報そのものにあります" in text(response)


def test_findings_come_by_weight_with_their_rule_linked_to_the_catalog(
    login, applicant, make_application, make_service
):
    service = make_service(name="オンラインストレージ", listings=(), certs=("iso27001",))
    app = make_application(
        service=service,
        confidentiality="3B",
        method="internet_pc",
        breakout_usage="",
        limited_external_sharing=True,
    )
    judgement = app.latest_judgement
    client = login(applicant)
    page = client.get(reverse("register:judgement", args=[app.pk, judgement.pk]))
    body = page.content.decode()
    view = present(judgement.decision, CATALOG)
    effects = re.findall(r'<li class="effect-(\w+)">', body)
    assert effects == [f.effect for f in view.findings]
    assert effects.index("approve") < effects.index("require")
    catalog_url = reverse("register:catalog")
    for finding in view.findings:
        assert f'<a href="{catalog_url}#rule-{finding.rule}">{finding.rule}</a>' in body
    catalog_page = client.get(catalog_url).content.decode()
    for finding in view.findings:
        assert f'id="rule-{finding.rule}"' in catalog_page


def test_required_measures_are_grouped_by_source_with_party_and_full_text(
    login, applicant, make_application, make_service
):
    service = make_service(name="オンラインストレージ", listings=(), certs=("iso27001",))
    app = make_application(
        service=service,
        confidentiality="3B",
        method="internet_pc",
        breakout_usage="",
        limited_external_sharing=True,
    )
    judgement = app.latest_judgement
    response = login(applicant).get(reverse("register:judgement", args=[app.pk, judgement.pk]))
    body = response.content.decode()
    view = present(judgement.decision, CATALOG)
    headings = re.findall(r"<h4>(.*?) <span", body)
    assert headings == [g.label for g in view.groups]
    order = [g.group for g in view.groups]
    assert {"SEL", "EXIT", "S1", "S2"} <= set(order)
    assert order == sorted(order, key=GROUP_ORDER.index)  # 表1, 別紙1①, 別紙1②, 3.1(2)…
    shown = text(response)
    assert "(複数台でネットワークを組む際は)" in shown  # S2-14's full text, not only its title
    s2_14 = re.search(r'<li id="measure-S2-14">.*?</li>', body, re.S)[0]
    assert "〔本市〕" in s2_14
    sel = next(g for g in view.groups if g.group == "SEL").measures[0]
    assert (
        f"〔{sel.party_label}〕" in re.search(rf'<li id="measure-{sel.id}">.*?</li>', body, re.S)[0]
    )
    assert sel.party_label == "事業者"


def test_the_2_or_1_my_number_finding_sits_next_to_the_field(login, applicant):
    client = login(applicant)
    response = preview(client, confidentiality="2", my_number="on", method="lgwan_asp")
    body = response.content.decode()
    rule = "R-2-MY-NUMBER-LEVEL"
    assert any(f["rule"] == rule for f in response.context["decision"]["findings"])
    note = re.search(r'<div id="my-number-note" hx-swap-oob="true">(.*?)</div>', body, re.S)
    assert note and "機密性の分類を確認してください" in note[1]
    # Without 特定個人情報 the note is emptied.
    cleared = preview(client, confidentiality="2", method="lgwan_asp").content.decode()
    assert re.search(r'<div id="my-number-note" hx-swap-oob="true">\s*</div>', cleared)
    # A full page (a form sent back with errors) shows it next to the field too.
    page = client.post(
        reverse("register:create"),
        form(
            confidentiality="2",
            my_number="on",
            method="lgwan_asp",
            purpose="",
            save=None,
            submit="1",
        ),
    ).content.decode()
    field = page.index('name="my_number"')
    assert page.index('id="my-number-note"') > field
    assert "機密性の分類を確認してください" in page[field : field + 3000]


def test_a_contractors_download_is_a_form_field_and_requires_s1_11n(login, applicant):
    client = login(applicant)
    facts = {
        "confidentiality": "2",
        "method": "lgwan_asp",
        "download_to_internet_terminal": "on",
        "download_by_contractor": "on",
    }
    response = client.post(reverse("register:create"), form(**facts))
    assert response.status_code == 302
    app = Application.objects.get()
    assert app.download_by_contractor
    assert app.latest_judgement.request["connection"]["download_by_contractor"] is True
    assert "S1-11N" in {e["id"] for e in app.latest_judgement.decision["required"]}
    detail = text(client.get(reverse("register:detail", args=[app.pk])))
    assert "指定管理者・委託事業者がダウンロードする" in detail


def test_a_contractors_download_without_a_download_is_refused_at_the_field(login, applicant):
    client = login(applicant)
    response = client.post(
        reverse("register:create"),
        form(
            confidentiality="2",
            method="lgwan_asp",
            download_by_contractor="on",
            save=None,
            submit="1",
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "インターネット環境の端末へのダウンロード" in " ".join(errors["download_by_contractor"])
    assert not Application.objects.exists()


def test_the_api_takes_and_returns_a_contractors_download(applicant):
    body = {
        "purpose": "指定管理者との施設データ共有",
        "confidentiality": "2",
        "method": "lgwan_asp",
        "download_to_internet_terminal": True,
        "download_by_contractor": True,
        "service": {"name": "施設管理クラウド", "provider": "株式会社サンプル"},
    }
    _, token = ApiToken.issue(applicant, name="test")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    response = client.post(
        "/api/v1/applications", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["download_by_contractor"] is True
    assert "S1-11N" in {e["id"] for e in created["decision"]["required"]}
    app = Application.objects.get()
    assert created["decision"] == cloudjudge.judge(app.latest_judgement.request)

    refused = client.post(
        "/api/v1/applications",
        json.dumps({**body, "download_to_internet_terminal": False}),
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert "download_by_contractor" in refused.content.decode()
