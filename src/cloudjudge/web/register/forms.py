"""Django forms of the register. They validate input and hand it to the
functions that own the rules (``applications``, ``checklist``, ``workflow``)."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
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
        self.fields["breakout_usage"].choices = [
            ("", _("Not local breakout")),
            *BreakoutUsage.choices,
        ]
        self.fields["network"].choices = [("", _("The line the method implies"))] + [
            c for c in self.fields["network"].choices if c[0]
        ]

    def clean(self):
        data = super().clean()
        if data.get("method") and data["method"] != Method.LOCAL_BREAKOUT:
            data["breakout_usage"] = ""
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


#: Engine request paths → the form field that states that fact.
ENGINE_FIELD = {
    "service.name": ("new_service", "name"),
    "data.confidentiality": ("application", "confidentiality"),
    "connection.method": ("application", "method"),
    "connection.breakout_usage": ("application", "breakout_usage"),
    "connection.network": ("application", "network"),
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

    def is_valid(self) -> bool:
        valid = self.form.is_valid() & self.service_form.is_valid()
        if not self.form.cleaned_data.get("service") and not self.service_form.cleaned_data.get(
            "name"
        ):
            self.service_form.add_error(
                "name", _("Pick a service from the register or enter a new one.")
            )
            valid = False
        try:
            parse_request(self.request())
        except RequestError as exc:
            for err in exc.errors:
                form_name, field = ENGINE_FIELD.get(err.path, ("application", None))
                form = self.service_form if form_name == "new_service" else self.form
                if field and field in form.errors:
                    continue
                form.add_error(field, err.message)
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
            return None, [(self.label_for(err.path), err.message) for err in exc.errors]

    def label_for(self, path: str) -> str:
        form_name, field = ENGINE_FIELD.get(path, (None, None))
        form = self.service_form if form_name == "new_service" else self.form
        if field and field in form.fields:
            return str(form.fields[field].label)
        return path

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = ItemStatus.choices
        application = self.instance.application
        self.fields["owner"].queryset = User.objects.filter(
            Q(department_id=application.department_id, role=Role.APPLICANT) | Q(role=Role.SECURITY),
            is_active=True,
        ).order_by("role", "username")

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
