"""The web layer's choices are the engine's codes: one vocabulary of codes.

The forms, the database and the API offer exactly the values the request
schema and the decision accept, so a code added to (or dropped from) the
engine without the web app, or the other way round, fails here."""

from __future__ import annotations

from typing import Annotated, get_args, get_origin

import pytest
from django.utils import translation

from cloudjudge import labels
from cloudjudge.engine import request
from cloudjudge.engine.judge import Verdict
from cloudjudge.registries import entries
from cloudjudge.web.register import forms, models
from cloudjudge.web.register.templatetags import register_tags
from cloudjudge.web.registries.models import Kind


def codes(literal: object) -> set[str]:
    """The values of a ``Literal`` (looking through ``Annotated``)."""
    if get_origin(literal) is Annotated:
        literal = get_args(literal)[0]
    return set(get_args(literal))


@pytest.mark.parametrize(
    ("web", "engine"),
    [
        pytest.param(models.Method.values, request.Method, id="method"),
        pytest.param(models.Confidentiality.values, request.Confidentiality, id="confidentiality"),
        pytest.param(models.BreakoutUsage.values, request.BreakoutUsage, id="usage"),
        pytest.param(models.Network.values, request.Network, id="network"),
        pytest.param(models.Verdict.values, Verdict, id="verdict"),
        pytest.param([c for c, _ in forms.LISTING_CHOICES], request.Listing, id="listing"),
        pytest.param(
            [c for c, _ in forms.CERTIFICATION_CHOICES], request.IsmsCertification, id="isms"
        ),
        pytest.param(Kind.values, entries.RegistryKind, id="registry-kind"),
    ],
)
def test_web_choices_are_exactly_the_engine_codes(web, engine):
    assert len(web) == len(set(web))
    assert set(web) == codes(engine)


# --------------------------------------------------------------------------- one vocabulary
# In Japanese every code has one word, the one in cloudjudge.labels: the web
# choices, the template filters and the exports say exactly what the terminal
# report and the PDF say (承認が必要, never 要承認（…）or 承認要).


@pytest.mark.parametrize(
    ("choices", "words"),
    [
        pytest.param(models.Verdict.choices, labels.VERDICT_LABELS, id="verdict"),
        pytest.param(models.Method.choices, labels.METHOD_LABELS, id="method"),
        pytest.param(models.BreakoutUsage.choices, labels.USAGE_LABELS, id="usage"),
        pytest.param(models.Network.choices, labels.NETWORK_LABELS, id="network"),
        pytest.param(
            models.Confidentiality.choices, labels.CONFIDENTIALITY_LABELS, id="confidentiality"
        ),
        pytest.param(models.ItemStatus.choices, labels.CHECKLIST_STATUS_LABELS, id="item-status"),
        pytest.param(forms.LISTING_CHOICES, labels.LISTING_LABELS, id="listing"),
        pytest.param(forms.CERTIFICATION_CHOICES, labels.ISMS_LABELS, id="isms"),
        pytest.param(list(register_tags.EFFECTS.items()), labels.EFFECT_LABELS, id="effect"),
        pytest.param(list(register_tags.GROUPS.items()), labels.GROUP_LABELS, id="group"),
        pytest.param(list(register_tags.APPROVERS.items()), labels.APPROVER_LABELS, id="approver"),
        pytest.param(list(register_tags.PARTIES.items()), labels.PARTY_LABELS, id="party"),
    ],
)
def test_in_japanese_the_web_words_are_the_labels_words(choices, words):
    with translation.override("ja"):
        web = {code: str(word) for code, word in choices}
    assert web == words


def test_the_verdict_filter_and_the_model_say_the_same_word():
    with translation.override("ja"):
        for code in models.Verdict.values:
            assert register_tags.verdict_label(code) == labels.VERDICT_LABELS[code]
            assert (
                register_tags.effect_label("approve") == labels.VERDICT_LABELS["approval_required"]
            )


def test_english_is_still_available():
    with translation.override("en"):
        assert str(models.Verdict.APPROVAL_REQUIRED.label) == "CISO approval required"
        assert register_tags.party_label("city") == "City"
