"""The checklist edited where the work is: one row or several at once on the
application page, with htmx (the row or the section comes back) or without
(the page, at the row), 該当なし still needing its reason, audited like the
single edit, refused to whoever may not work on it."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.register import evidence, workflow
from cloudjudge.web.register.models import ChecklistItem, ItemStatus
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def row_data(item, **values):
    p = f"item-{item.pk}"
    data = {
        f"{p}-status": item.status,
        f"{p}-na_reason": item.na_reason,
        f"{p}-owner": item.owner_id or "",
        f"{p}-due_date": item.due_date.isoformat() if item.due_date else "",
        f"{p}-note": item.note,
    }
    data.update({f"{p}-{k}": v for k, v in values.items()})
    return data


def rows(application):
    return list(application.checklist_items.filter(active=True).order_by("position"))


def test_the_application_page_offers_each_row_and_the_bulk_form(login, make_application, applicant):
    application = make_application()
    items = rows(application)
    html = login(applicant).get(reverse("register:detail", args=[application.pk])).content.decode()
    for item in items:
        assert f'id="item-{item.pk}"' in html
        assert f'name="item-{item.pk}-status"' in html
        assert f'name="bulk-items" value="{item.pk}"' in html
    assert "選択した行をまとめて変更" in html


def test_one_row_changed_in_place_with_htmx(login, make_application, applicant, colleague):
    application = make_application()
    item = rows(application)[0]
    client = login(applicant)
    url = reverse("register:checklist_row", args=[application.pk, item.pk])
    response = client.post(
        url,
        row_data(
            item, status="in_progress", owner=colleague.pk, due_date="2027-01-31", note="見積中"
        ),
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="item-{item.pk}"')  # only the row comes back
    assert "保存しました" in html
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_PROGRESS and item.owner == colleague
    assert item.due_date == datetime.date(2027, 1, 31) and item.note == "見積中"
    entry = AuditEntry.objects.filter(action=Action.UPDATE, object_id=str(item.pk)).get()
    assert entry.after["status"] == "in_progress"


def test_without_javascript_the_page_comes_back_at_the_row(login, make_application, applicant):
    application = make_application()
    item = rows(application)[1]
    response = login(applicant).post(
        reverse("register:checklist_row", args=[application.pk, item.pk]),
        row_data(item, status="done"),
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/applications/{application.pk}/#item-{item.pk}")
    item.refresh_from_db()
    assert item.status == ItemStatus.DONE


def test_not_applicable_needs_its_reason_next_to_the_row(login, make_application, applicant):
    application = make_application()
    item = rows(application)[0]
    client = login(applicant)
    url = reverse("register:checklist_row", args=[application.pk, item.pk])
    response = client.post(url, row_data(item, status="not_applicable"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="invalid"' in html and "該当しない理由を記入してください" in html
    item.refresh_from_db()
    assert item.status == ItemStatus.TODO  # nothing written
    # Without htmx: the whole page, with the message in that row.
    page = client.post(url, row_data(item, status="not_applicable")).content.decode()
    start = page.index(f'<tr id="item-{item.pk}"')
    assert "該当しない理由を記入してください" in page[start : page.index("</tr>", start)]
    ok = client.post(
        url, row_data(item, status="not_applicable", na_reason="紙で運用しない"), **HTMX
    )
    assert "保存しました" in ok.content.decode()
    item.refresh_from_db()
    assert item.status == ItemStatus.NOT_APPLICABLE and item.na_reason == "紙で運用しない"


def test_bulk_change_of_selected_rows_in_one_go(login, make_application, applicant, security):
    application = make_application()
    items = rows(application)
    chosen = items[:3]
    untouched = items[3]
    response = login(applicant).post(
        reverse("register:checklist_bulk", args=[application.pk]),
        {
            "bulk-items": [i.pk for i in chosen],
            "bulk-status": "in_progress",
            "bulk-owner": security.pk,
            "bulk-due_date": "2027-03-31",
            "bulk-note": "一括で依頼済み",
        },
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="checklist"')
    assert "3 行を更新しました" in html
    for item in chosen:
        item.refresh_from_db()
        assert item.status == ItemStatus.IN_PROGRESS and item.owner == security
        assert item.due_date == datetime.date(2027, 3, 31)
        assert item.note.endswith("一括で依頼済み")
    untouched.refresh_from_db()
    assert untouched.status == ItemStatus.TODO and untouched.owner is None
    # audited like single edits: one entry per row
    assert (
        AuditEntry.objects.filter(
            action=Action.UPDATE, object_type="register.checklistitem"
        ).count()
        == 3
    )


def test_a_bulk_change_is_all_or_nothing(login, make_application, applicant):
    application = make_application()
    a, b = rows(application)[:2]
    a.na_reason = ""
    response = login(applicant).post(
        reverse("register:checklist_bulk", args=[application.pk]),
        {"bulk-items": [a.pk, b.pk], "bulk-status": "not_applicable"},
        **HTMX,
    )
    html = response.content.decode()
    assert f"{a.item_id}: 該当しない理由を記入してください" in html
    assert f"{b.item_id}: 該当しない理由を記入してください" in html
    # the rows stay selected, nothing written
    assert f'value="{a.pk}" form="bulk" aria-label' in html and "checked" in html
    assert not ChecklistItem.objects.filter(status=ItemStatus.NOT_APPLICABLE).exists()
    assert not AuditEntry.objects.filter(object_type="register.checklistitem").exists()


def test_a_bulk_change_needs_rows_and_a_change(login, make_application, applicant):
    application = make_application()
    url = reverse("register:checklist_bulk", args=[application.pk])
    client = login(applicant)
    html = client.post(url, {"bulk-status": "done"}, **HTMX).content.decode()
    assert "変更する行を選んでください" in html
    item = rows(application)[0]
    html = client.post(url, {"bulk-items": [item.pk]}, **HTMX).content.decode()
    assert "選択した行に何を変更するか指定してください" in html


def test_auditors_may_not_change_rows_and_are_recorded(auditor, login, make_application):
    application = make_application()
    item = rows(application)[0]
    user = auditor
    client = login(user)
    page = client.get(reverse("register:detail", args=[application.pk])).content.decode()
    assert f'name="item-{item.pk}-status"' not in page and 'id="bulk"' not in page
    response = client.post(
        reverse("register:checklist_row", args=[application.pk, item.pk]),
        row_data(item, status="done"),
    )
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == ItemStatus.TODO
    refusal = AuditEntry.objects.get(action=Action.ACCESS_DENIED)
    assert refusal.actor_username == user.username and refusal.extra["method"] == "POST"
    response = client.post(
        reverse("register:checklist_bulk", args=[application.pk]),
        {"bulk-items": [item.pk], "bulk-status": "done"},
    )
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action=Action.ACCESS_DENIED).count() == 2


def test_another_departments_applicant_gets_a_404(login, make_application, outsider):
    application = make_application()
    item = rows(application)[0]
    response = login(outsider).post(
        reverse("register:checklist_row", args=[application.pk, item.pk]),
        row_data(item, status="done"),
    )
    assert response.status_code == 404


def test_the_exit_walk_links_its_rows_and_the_certificate_shows_in_the_checklist(
    login, make_application, applicant, security, ciso
):
    application = make_application()
    workflow.perform(application, Step.SUBMIT, applicant)
    workflow.perform(application, Step.APPROVE, security)
    application.refresh_from_db()
    if application.needs_ciso_approval:
        workflow.perform(application, Step.CISO_APPROVE, ciso)
    application.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(application, Step.START_USE, applicant)
    workflow.perform(application, Step.BEGIN_EXIT, applicant)
    exit_rows = {
        i.item_id: i for i in application.checklist_items.filter(item_id__startswith="EXIT-")
    }
    assert set(exit_rows) == {"EXIT-1", "EXIT-2", "EXIT-3"}
    certificate = SimpleUploadedFile(
        "削除証明書.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n%%EOF\n"
    )
    evidence.store(application, certificate, applicant, exit_step="EXIT-2")
    html = login(applicant).get(reverse("register:detail", args=[application.pk])).content.decode()
    for code, row in exit_rows.items():
        assert f'<a href="#item-{row.pk}">{code} ' in html
    start = html.index(f'<tr id="item-{exit_rows["EXIT-2"].pk}"')
    row_html = html[start : html.index("</tr>", start)]
    assert "EXIT-2 削除証明書.pdf" in row_html


def test_the_row_widgets_write_what_django_templates_write(make_application, applicant, colleague):
    """The row form's controls are written in Python for speed (~300 on a long
    checklist); each must be the HTML Django's widget templates give, hostile
    text escaped, the chosen option selected."""
    from django import forms as django_forms

    from cloudjudge.web.register.forms import ChecklistRowForm, DateInput

    application = make_application()
    item = rows(application)[0]
    item.status = ItemStatus.NOT_APPLICABLE
    item.na_reason = '"><script>alert(1)</script>'
    item.note = "</textarea><b>注記</b>\n二行目 & 'quote'"
    item.owner = colleague
    item.due_date = datetime.date(2027, 3, 31)
    form = ChecklistRowForm(instance=item)
    plain = {
        "status": django_forms.Select,
        "na_reason": django_forms.TextInput,
        "note": django_forms.Textarea,
        "due_date": DateInput,
        "owner": django_forms.Select,
    }
    for name, base in plain.items():
        widget = form.fields[name].widget
        assert type(widget) is not base and isinstance(widget, base), name
        bound = form[name]
        ours = bound.as_widget()
        # The same widget rendered by Django's own templates.
        theirs = bound.as_widget(widget=_Templated(widget, base))
        assert ours == theirs, name
    html = str(form["na_reason"])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "</textarea><b>" not in str(form["note"])
    assert 'value="not_applicable" selected' in str(form["status"])
    assert f'value="{colleague.pk}" selected' in str(form["owner"])
    assert 'value="2027-03-31"' in str(form["due_date"])


class _Templated:
    """A widget rendered by its Django base class (the widget templates)."""

    def __new__(cls, widget, base):
        import copy

        twin = copy.deepcopy(widget)
        twin.__class__ = type(f"Templated{base.__name__}", (base,), {})
        return twin
