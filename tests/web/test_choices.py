"""The web layer's choices are the engine's codes: one vocabulary of codes.

The forms, the database and the API offer exactly the values the request
schema and the decision accept, so a code added to (or dropped from) the
engine without the web app, or the other way round, fails here."""

from __future__ import annotations

from typing import Annotated, get_args, get_origin

import pytest

from cloudjudge.engine import request
from cloudjudge.engine.judge import Verdict
from cloudjudge.registries import entries
from cloudjudge.web.register import forms, models
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
