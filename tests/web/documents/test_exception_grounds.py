"""The exception grounds (例外の根拠) an application claims are in every record
of its judgement that leaves the office, in the application page's words: the
judgement report (PDF) the CISO signs and the judgement's OSCAL JSON. The
applicant's explanation is free text, shown as text like every other; an
application that claims nothing has no 例外の根拠 at all.

(The procurement text and the vendor questionnaire go to vendors and carry no
applicant text: ``test_stored_xss.test_procurement_text_holds_no_applicant_text``.)
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils import translation
from trestle.oscal.assessment_results import AssessmentResults

from cloudjudge.labels import FACT_LABELS
from cloudjudge.web.register.models import EXCEPTION_GROUNDS

from .helpers import INTERNET_PC

pytestmark = pytest.mark.django_db

FORMULA = "=cmd|' /C calc'!A0"
SCRIPT = '<script>alert("grounds")</script>'
NOTE = f"委託先が LGWAN に接続できないため。\n{FORMULA}\n{SCRIPT}"
#: Each ground's words, as the catalog's fact labels define them.
WORDS = {name: FACT_LABELS[f"exceptions.{name}"] for name in EXCEPTION_GROUNDS}
HEADING = "例外の根拠"


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def claimed(make_application, make_service):
    """Internet PCs with every ground claimed and a hostile explanation."""
    service = make_service(name="図面共有サービス", provider="Example 株式会社")
    return make_application(
        service=service,
        **{**INTERNET_PC, **dict.fromkeys(EXCEPTION_GROUNDS, True), "exception_note": NOTE},
    )


@pytest.fixture
def plain(make_application):
    """No ground claimed, no explanation."""
    return make_application()


def report_text(client, application, poppler, tmp_path) -> tuple[bytes, str]:
    response = client.get(reverse("documents:report_pdf", args=[application.pk]))
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / f"report-{application.pk}.pdf"
    path.write_bytes(response.content)
    return response.content, flat(poppler.text(path))


def oscal_result(client, application) -> dict:
    response = client.get(reverse("documents:assessment_results", args=[application.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    document = json.loads(response.content)
    AssessmentResults.model_validate(document["assessment-results"])
    (result,) = document["assessment-results"]["results"]
    return result


def test_in_japanese_each_ground_is_the_words_of_the_catalogs_fact_labels(claimed):
    with translation.override("ja"):
        grounds = claimed.exception_grounds
    assert grounds == [*WORDS.values(), NOTE.strip()]


def test_the_page_shows_the_grounds_escaped(login, applicant, claimed):
    html = login(applicant).get(reverse("register:detail", args=[claimed.pk])).content.decode()
    grounds = html.split('class="exception-grounds">', 1)[1].split("</dd>", 1)[0]
    for words in WORDS.values():
        assert words in grounds
    assert FORMULA.replace("'", "&#x27;") in grounds
    assert "&lt;script&gt;alert(&quot;grounds&quot;)&lt;/script&gt;" in grounds
    assert "<script>" not in grounds
    assert f"<dt>{HEADING}</dt>" in html


def test_the_page_speaks_english_to_an_english_reader(login, applicant, claimed):
    client = login(applicant)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("register:detail", args=[claimed.pk])).content.decode()
    assert "<dt>Exception grounds</dt>" in html
    assert "The needed function exists only as an internet cloud" in html


def test_the_judgement_report_prints_the_grounds_as_text(
    login, applicant, claimed, poppler, tmp_path
):
    client = login(applicant)
    client.cookies["django_language"] = "en"  # the report is Japanese whatever the UI says
    data, text = report_text(client, claimed, poppler, tmp_path)
    section_1 = text.split("2.申請内容", 1)[0]
    assert HEADING in section_1
    for words in WORDS.values():
        assert flat(words) in section_1, words
    assert flat(FORMULA) in section_1  # the applicant's words, as text
    assert flat(SCRIPT) in section_1
    assert "委託先がLGWANに接続できないため。" in section_1
    for marker in (b"/JavaScript", b"/JS ", b"/URI", b"/Launch", b"/SubmitForm"):
        assert marker not in data


def test_the_oscal_record_carries_the_grounds(login, applicant, claimed):
    result = oscal_result(login(applicant), claimed)
    remarks = result["remarks"]
    assert remarks.startswith(HEADING)
    for words in WORDS.values():
        assert words in remarks
    assert NOTE in remarks  # the applicant's text, as data: the file is JSON, never a page


def test_one_ground_shows_only_that_ground(login, applicant, make_application, poppler, tmp_path):
    app = make_application(**{**INTERNET_PC, "exception_note": "共有手段が限られるため"})
    client = login(applicant)
    _, text = report_text(client, app, poppler, tmp_path)
    section_1 = text.split("2.申請内容", 1)[0]  # section 2 lists every fact, はい or いいえ
    assert flat(WORDS["limited_external_sharing"]) in section_1
    assert flat(WORDS["internet_only_function"]) not in section_1
    remarks = oscal_result(client, app)["remarks"]
    assert WORDS["limited_external_sharing"] in remarks and "共有手段が限られるため" in remarks
    assert WORDS["council_approved_legacy"] not in remarks


def test_without_grounds_there_is_no_heading_anywhere(login, applicant, plain, poppler, tmp_path):
    client = login(applicant)
    html = client.get(reverse("register:detail", args=[plain.pk])).content.decode()
    assert HEADING not in html and "exception-grounds" not in html
    _, text = report_text(client, plain, poppler, tmp_path)
    assert "申請の概要" in text and HEADING not in text
    assert "remarks" not in oscal_result(client, plain)
