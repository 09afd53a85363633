"""Django forms of the register. They validate input and hand it to the
functions that own the rules (``applications``, ``checklist``, ``workflow``)."""

from __future__ import annotations

import copy
import html
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from cloudjudge.engine import RequestError, parse_request
from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.register import (
    applications,
    checklist,
    evidence,
    judging,
    overview,
    permissions,
)
from cloudjudge.web.register.models import (
    EXCEPTION_GROUNDS,
    Application,
    BreakoutUsage,
    ChecklistItem,
    Confidentiality,
    ItemStatus,
    Method,
    Service,
    Status,
    Verdict,
)

LISTING_CHOICES = [
    ("lgwan_asp", _("LGWAN-ASP")),
    ("ismap", _("ISMAP cloud service list")),
    ("ismap_liu", _("ISMAP-LIU cloud service list")),
]
CERTIFICATION_CHOICES = [
    ("iso27001", "ISO/IEC 27001"),
    ("iso27017", "ISO/IEC 27017"),
    ("iso27018", "ISO/IEC 27018"),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


# The checklist table draws a form per row, ~5 controls each: ~300 widgets on a
# 57-row checklist. Django renders each through its widget templates (~1 ms
# each, most of the application page's time), so the row form's widgets write
# the same HTML in Python (tests/web/test_checklist_inline.py compares both).


def _e(value: Any) -> str:
    """``conditional_escape`` without its wrappers (it runs ~2,000 times a page)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: ``True`` bare, ``False`` left out."""
    return "".join(
        f" {_e(name)}" if value is True else f' {_e(name)}="{_e(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class _InputInPython:
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else f' value="{_e(widget["value"])}"'
        return mark_safe(  # every part is escaped by _e
            f'<input type="{_e(widget["type"])}" name="{_e(name)}"{shown}{_attrs(widget["attrs"])}>'
        )


class RowTextInput(_InputInPython, forms.TextInput):
    pass


class RowDateInput(_InputInPython, DateInput):
    pass


class RowTextarea(forms.Textarea):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        return mark_safe(  # every part is escaped by _e
            f'<textarea name="{_e(name)}"{_attrs(widget["attrs"])}>\n'
            f"{_e(widget['value'] or '')}</textarea>"
        )


class RowSelect(forms.Select):
    """``select.html`` and ``select_option.html`` (no option groups: the row
    form has none), straight from ``choices``: Django's ``optgroups`` makes a
    context per option, ~10 per control."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        parts = [f'<select name="{_e(name)}"{_attrs(self.build_attrs(self.attrs, attrs))}>']
        for option_value, label in self.choices:
            shown = "" if option_value is None else str(option_value)
            selected = shown in chosen
            if selected:
                chosen = set()  # one selected option, as Django marks only the first
            mark = " selected" if selected else ""
            parts.append(f'\n  <option value="{_e(shown)}"{mark}>{_e(label)}</option>\n')
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # every part is escaped by _e


# --------------------------------------------------------------------------- application


class ApplicationForm(forms.ModelForm):
    service = forms.ModelChoiceField(
        label=_("Service in the register"),
        queryset=Service.objects.all(),
        required=False,
        empty_label=_("(not in the register yet: enter it below)"),
    )

    class Meta:
        model = Application
        fields = list(applications.FACT_FIELDS)
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "confidentiality": forms.RadioSelect,
            "method": forms.RadioSelect,
            "breakout_usage": forms.RadioSelect,
            "exception_note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "breakout_usage": _("Required for local breakout (表1 columns A/B/C)."),
            "exception_note": _("Explain the grounds ticked above, if any."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confidentiality"].choices = Confidentiality.choices
        self.fields["method"].choices = Method.choices
        # No "none" choice: nothing is chosen until the applicant chooses
        # (the field is hidden, and emptied, for the other methods).
        self.fields["breakout_usage"].choices = BreakoutUsage.choices
        self.fields["network"].choices = [("", _("The line the method implies"))] + [
            c for c in self.fields["network"].choices if c[0]
        ]

    def clean(self):
        data = super().clean()
        if data.get("method") and data["method"] != Method.LOCAL_BREAKOUT:
            data["breakout_usage"] = ""
        claimed = [str(self.fields[name].label) for name in EXCEPTION_GROUNDS if data.get(name)]
        if claimed and not (data.get("exception_note") or "").strip():
            self.add_error(
                "exception_note",
                _("Explain the exception ground claimed (%(grounds)s).")
                % {"grounds": "、".join(claimed)},
            )
        return data


class NewServiceForm(forms.ModelForm):
    prefix = "new_service"
    listings = forms.MultipleChoiceField(
        label=_("Listings"),
        choices=LISTING_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    isms_certifications = forms.MultipleChoiceField(
        label=_("ISMS certifications"),
        choices=CERTIFICATION_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Service
        fields = ["name", "provider", "security_update_service"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False

    def validate_unique(self):
        """A service already in the register is picked above, not entered twice."""
        if self.cleaned_data.get("name"):
            super().validate_unique()

    def unsaved_service(self) -> Service:
        data = getattr(self, "cleaned_data", {})
        service = Service(
            name=data.get("name", ""),
            provider=data.get("provider", ""),
            security_update_service=data.get("security_update_service", False),
        )
        service.listings = data.get("listings", [])
        service.isms_certifications = data.get("isms_certifications", [])
        return service


#: What the form says when the engine finds a fact missing or not one of its
#: codes: the field's own words, never the codes (the API and the CLI keep
#: the engine's message, which names them).
ENGINE_MESSAGES = {
    "service.name": _("Enter the service name, or pick a service from the register."),
    "data.confidentiality": _("Choose the confidentiality of the information."),
    "connection.method": _("Choose the connection method."),
    "connection.breakout_usage": _(
        "For local breakout, choose how the service is used (表1 A, B or C)."
    ),
    "connection.network": _("Choose the network, or leave it to the connection method."),
}

#: Engine request paths → the form field that states that fact.
ENGINE_FIELD = {
    "service.name": ("new_service", "name"),
    "data.confidentiality": ("application", "confidentiality"),
    "connection.method": ("application", "method"),
    "connection.breakout_usage": ("application", "breakout_usage"),
    "connection.network": ("application", "network"),
    "connection.download_by_contractor": ("application", "download_by_contractor"),
}


class ApplicationEditor:
    """The application form and the new-service form, validated together and
    against the engine, which says which facts are missing or contradictory."""

    def __init__(self, data=None, *, instance: Application | None = None):
        self.instance = instance
        # The form works on a copy: a failed validation leaves the instance as it was.
        self.form = ApplicationForm(
            data,
            instance=copy.copy(instance) if instance else None,
            initial={"service": instance.service_id} if instance else None,
        )
        self.service_form = NewServiceForm(data)
        self.bound = data is not None
        self.engine_errors: list[tuple[str, str]] = []

    def __iter__(self):
        return iter((self.form, self.service_form))

    # --- facts

    def _service(self) -> Service:
        data = getattr(self.form, "cleaned_data", {})
        return data.get("service") or self.service_form.unsaved_service()

    def _application(self) -> Application:
        data = getattr(self.form, "cleaned_data", {})
        base = self.instance or Application()
        facts = {name: data.get(name, getattr(base, name)) for name in applications.FACT_FIELDS}
        if not self.form.is_bound:
            return base
        return Application(**facts)

    def request(self) -> dict[str, Any]:
        return judging.request_for(self._application(), self._service())

    # --- validation

    def is_valid(self, *, complete: bool = True) -> bool:
        """``complete``: everything a submission needs (the API, 提出); else
        only what a draft needs: well-formed values and the service."""
        valid = self.form.is_valid() & self.service_form.is_valid()
        if not self.form.cleaned_data.get("service") and not self.service_form.cleaned_data.get(
            "name"
        ):
            self.service_form.add_error(
                "name", _("Pick a service from the register or enter a new one.")
            )
            valid = False
        if not complete:
            return valid
        if not (self.form.cleaned_data.get("purpose") or "").strip() and (
            "purpose" not in self.form.errors
        ):
            self.form.add_error("purpose", _("Enter the purpose of use."))
            valid = False
        try:
            parse_request(self.request())
        except RequestError as exc:
            for err in exc.errors:
                form_name, field = ENGINE_FIELD.get(err.path, ("application", None))
                form = self.service_form if form_name == "new_service" else self.form
                if field and field in form.errors:
                    continue
                form.add_error(field, ENGINE_MESSAGES.get(err.path, err.message))
            valid = False
        return valid

    def preview(self) -> tuple[dict | None, list[tuple[str, str]]]:
        """The decision for whatever has been filled in so far, or the facts
        still missing (as ``(field label, message)``), for the live panel."""
        self.form.is_valid()
        self.service_form.is_valid()
        try:
            return judging.decide(self.request()), []
        except RequestError as exc:
            return None, [
                (self.label_for(err.path), str(ENGINE_MESSAGES.get(err.path, err.message)))
                for err in exc.errors
            ]

    def picked_service(self) -> Service | None:
        """The register's service chosen on the form (or the application's own)."""
        if self.bound:
            data = getattr(self.form, "cleaned_data", None) or {}
            return data.get("service")
        return self.instance.service if self.instance is not None else None

    def label_for(self, path: str) -> str:
        form_name, field = ENGINE_FIELD.get(path, (None, None))
        form = self.service_form if form_name == "new_service" else self.form
        if field and field in form.fields:
            return str(form.fields[field].label)
        return path

    def invalid_labels(self) -> list[str]:
        """The labels of the fields with an error, in form order (for the
        message that says why a submission was not made)."""
        labels = []
        for form in (self.service_form, self.form):
            for name, field in form.fields.items():
                if name in form.errors:
                    labels.append(str(field.label))
        return labels

    # --- saving

    def save(self, actor) -> Application:
        data = self.form.cleaned_data
        service = data.get("service") or self.service_form.save(commit=False)
        if not data.get("service"):
            service.listings = self.service_form.cleaned_data["listings"]
            service.isms_certifications = self.service_form.cleaned_data["isms_certifications"]
        facts = {name: data[name] for name in applications.FACT_FIELDS}
        if self.instance is None:
            return applications.create_application(actor, service, **facts)
        return applications.update_application(self.instance, actor, service, **facts)


# --------------------------------------------------------------------------- register list


class RegisterFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=_("All"),
    )
    verdict = forms.ChoiceField(label=_("Verdict"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    method = forms.ChoiceField(label=_("Connection method"), required=False)
    confidentiality = forms.ChoiceField(label=_("Confidentiality"), required=False)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, departments: QuerySet[Department] | None = None):
        super().__init__(data)
        every = [("", _("All"))]
        self.fields["verdict"].choices = every + Verdict.choices
        self.fields["status"].choices = every + Status.choices
        self.fields["method"].choices = every + Method.choices
        self.fields["confidentiality"].choices = every + Confidentiality.choices
        if departments is not None:
            self.fields["department"].queryset = departments

    @classmethod
    def for_user(cls, user, data=None) -> RegisterFilterForm:
        """The filters this user may choose from: every department, or their own."""
        departments = (
            Department.objects.all()
            if permissions.sees_all(user)
            else Department.objects.filter(pk=user.department_id)
        )
        return cls(data, departments=departments)

    def visible_to(self, user) -> QuerySet[Application]:
        """The register rows this user may see, narrowed by the chosen filters."""
        return self.search(permissions.visible_applications(user))

    def search(self, applications_qs: QuerySet[Application]) -> QuerySet[Application]:
        """Invalid filters are ignored rather than failing the whole list."""
        data = self.cleaned_data if self.is_valid() else {}
        params = {k: v for k, v in data.items() if v}
        params.setdefault("sort", overview.DEFAULT_SORT)
        return overview.search_register(applications_qs, **params)

    @property
    def searches_text(self) -> bool:
        """A search word was given (its matches are counted up to a limit)."""
        return bool(self.is_valid() and self.cleaned_data.get("q", "").strip())

    @property
    def current_sort(self) -> str:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("sort") or overview.DEFAULT_SORT


# --------------------------------------------------------------------------- checklist


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["status", "na_reason", "owner", "due_date", "note"]
        widgets = {
            "status": forms.RadioSelect,
            "na_reason": forms.Textarea(attrs={"rows": 2}),
            "note": forms.Textarea(attrs={"rows": 3}),
            "due_date": DateInput,
        }
        help_texts = {"na_reason": _("Required when the status is 'not applicable'.")}

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = ItemStatus.choices
        # ``owners``: owner_candidates() built once for a table of rows (each
        # build of the query costs more than the row's whole form otherwise).
        self.fields["owner"].queryset = (
            owners if owners is not None else owner_candidates(self.instance.application)
        )

    def clean(self):
        data = super().clean()
        try:
            checklist.check_item(data.get("status", ""), data.get("na_reason", ""))
        except forms.ValidationError as exc:
            self.add_error(None, exc)
        return data

    def save(self, actor) -> ChecklistItem:
        changes = {name: self.cleaned_data[name] for name in self.Meta.fields}
        return checklist.update_item(self.instance, actor, **changes)


def owner_candidates(application: Application) -> QuerySet[User]:
    """Who may own a checklist row: the department's applicants and the security office."""
    return User.objects.filter(
        Q(department_id=application.department_id, role=Role.APPLICANT) | Q(role=Role.SECURITY),
        is_active=True,
    ).order_by("role", "username")


class ChecklistRowForm(ChecklistItemForm):
    """One row of the checklist table, edited in place (prefix ``item-<pk>``).
    ``owner_choices``: the owners, read once for the whole table."""

    class Meta(ChecklistItemForm.Meta):
        widgets = {
            "status": RowSelect,
            "na_reason": RowTextInput,
            "note": RowTextarea(attrs={"rows": 1}),
            "due_date": RowDateInput,
            "owner": RowSelect,
        }

    def __init__(self, *args, owner_choices=None, **kwargs):
        kwargs.setdefault("prefix", f"item-{kwargs['instance'].pk}")
        super().__init__(*args, **kwargs)
        self.fields["na_reason"].help_text = ""  # the table has no room; the error says it
        owner = self.fields["owner"]
        if owner_choices is not None and isinstance(owner, forms.ModelChoiceField):
            owner.choices = owner_choices
        for field in self.fields.values():
            field.widget.attrs["form"] = f"row-{self.instance.pk}"
            field.widget.attrs["aria-label"] = f"{self.instance.item_id} {field.label}"
        self.fields["na_reason"].widget.attrs["placeholder"] = self.fields["na_reason"].label


KEEP = ""


class ChecklistBulkForm(forms.Form):
    """The same change to the selected rows; an empty field leaves it as it is."""

    items = forms.TypedMultipleChoiceField(
        label=_("Rows"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    na_reason = forms.CharField(
        label=_("Reason it does not apply"), required=False, max_length=2000
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("(unchanged)"),
    )
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput)
    note = forms.CharField(
        label=_("Add to the note"),
        required=False,
        max_length=2000,
        help_text=_("Added as a new line under each row's note."),
    )

    def __init__(self, *args, application: Application, items, owner_choices=None, **kwargs):
        kwargs["prefix"] = "bulk"
        super().__init__(*args, **kwargs)
        self.rows = {item.pk: item for item in items}
        rows, status, owner = self.fields["items"], self.fields["status"], self.fields["owner"]
        assert isinstance(rows, forms.ChoiceField) and isinstance(status, forms.ChoiceField)
        assert isinstance(owner, forms.ModelChoiceField)
        rows.choices = [(item.pk, item.item_id) for item in items]
        rows.error_messages["required"] = _("Select the rows to change.")
        status.choices = [(KEEP, _("(unchanged)")), *ItemStatus.choices]
        owner.queryset = owner_candidates(application)
        if owner_choices is not None:
            owner.choices = [
                ("", _("(unchanged)")),
                *[c for c in owner_choices if c[0] != ""],
            ]
        for field in self.fields.values():
            field.widget.attrs["form"] = "bulk"

    def clean(self):
        data = super().clean()
        if self.is_bound and not (self.changes_from(data) or data.get("note", "").strip()):
            raise forms.ValidationError(_("Choose what to change for the selected rows."))
        return data

    @staticmethod
    def changes_from(data) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name in ("status", "owner", "due_date"):
            if data.get(name):
                changes[name] = data[name]
        if data.get("na_reason"):
            changes["na_reason"] = data["na_reason"]
        return changes

    def selected(self) -> list[ChecklistItem]:
        return [self.rows[pk] for pk in self.cleaned_data["items"]]

    def save(self, actor) -> list[ChecklistItem]:
        return checklist.update_items(
            self.selected(),
            actor,
            append_note=self.cleaned_data.get("note", ""),
            **self.changes_from(self.cleaned_data),
        )


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("Evidence file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        evidence.check_upload(upload)
        return upload


# --------------------------------------------------------------------------- workflow


class ActionForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExitStepForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    certificate = forms.FileField(label=_("Deletion certificate"), required=False)

    def clean_certificate(self):
        upload = self.cleaned_data.get("certificate")
        if upload:
            evidence.check_upload(upload)
        return upload


class ConditionalApprovalForm(forms.Form):
    """Which open checklist rows stay open at 利用開始, each with an owner and a
    due date: one checkbox, owner and date per open row."""

    comment = forms.CharField(
        label=_("Conditions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data=None, *, application: Application):
        super().__init__(data)
        from cloudjudge.web.register.workflow import open_rows

        self.application = application
        self.rows = open_rows(application)
        owners = User.objects.filter(is_active=True).filter(
            Q(role=Role.APPLICANT, department_id=application.department_id) | Q(role=Role.SECURITY)
        )
        for item in self.rows:
            self.fields[f"keep_{item.pk}"] = forms.BooleanField(
                label=_("%(item)s stays open") % {"item": item.item_id},
                required=False,
                initial=item.open_under_condition,
            )
            self.fields[f"owner_{item.pk}"] = forms.ModelChoiceField(
                label=_("%(item)s owner") % {"item": item.item_id},
                queryset=owners.order_by("last_name", "first_name", "username"),
                required=False,
                initial=item.owner_id,
            )
            self.fields[f"due_{item.pk}"] = forms.DateField(
                label=_("%(item)s due date") % {"item": item.item_id},
                required=False,
                initial=item.due_date,
                widget=forms.DateInput(attrs={"type": "date"}),
            )

    def row_fields(self):
        """(item, keep, owner, due) bound fields, for the table."""
        return [
            (item, self[f"keep_{item.pk}"], self[f"owner_{item.pk}"], self[f"due_{item.pk}"])
            for item in self.rows
        ]

    def clean(self):
        data = super().clean()
        kept = 0
        for item in self.rows:
            if not data.get(f"keep_{item.pk}"):
                continue
            kept += 1
            if not data.get(f"owner_{item.pk}"):
                self.add_error(
                    f"owner_{item.pk}",
                    _("%(item)s: choose the owner who completes it.") % {"item": item.item_id},
                )
            if not data.get(f"due_{item.pk}"):
                self.add_error(
                    f"due_{item.pk}", _("%(item)s: give a due date.") % {"item": item.item_id}
                )
        if not kept:
            raise forms.ValidationError(
                _("Choose the checklist rows that stay open, with an owner and a due date each.")
            )
        return data

    def conditions(self):
        from cloudjudge.web.register.workflow import Condition

        return [
            Condition(
                item,
                self.cleaned_data[f"owner_{item.pk}"],
                self.cleaned_data[f"due_{item.pk}"],
            )
            for item in self.rows
            if self.cleaned_data.get(f"keep_{item.pk}")
        ]
