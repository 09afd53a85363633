"""The 「書類」 box of the application page, without touching the page's view:
``{% documents_context application as docs %}`` gives what the box shows."""

from __future__ import annotations

from django import template
from django.db.models import Count, Q

from cloudjudge.catalog import default_catalog
from cloudjudge.documents.models import vendor_item_ids
from cloudjudge.web.documents.forms import QuestionnaireDownloadForm
from cloudjudge.web.questionnaires import importing
from cloudjudge.web.questionnaires.models import ProposalDecision

register = template.Library()

#: Imports listed in the box; the import page lists them all.
RECENT = 3


@register.simple_tag(takes_context=True)
def documents_context(context, application) -> dict:
    user = context["request"].user
    judgement = application.latest_judgement
    decision = judgement.decision if judgement is not None else {}
    asks = bool(vendor_item_ids(decision, default_catalog()))
    imports = list(
        application.questionnaire_imports.select_related("uploaded_by").annotate(
            pending=Count("proposals", filter=Q(proposals__decision=ProposalDecision.PENDING))
        )[: RECENT + 1]
    )
    return {
        "judged": judgement is not None,
        "asks_vendor": asks,
        "can_import": importing.can_import(user, application),
        "can_decide": importing.can_decide(user, application),
        "imports": imports[:RECENT],
        "more_imports": len(imports) > RECENT,
        "download_form": QuestionnaireDownloadForm(
            initial=QuestionnaireDownloadForm.initial_for(user),
            auto_id="questionnaire-%s",
        ),
    }
