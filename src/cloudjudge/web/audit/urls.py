from django.urls import path

from cloudjudge.web.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.entry_list, name="list"),
    path("export.csv", views.entry_export, {"fmt": "csv"}, name="export_csv"),
    path("export.jsonl", views.entry_export, {"fmt": "jsonl"}, name="export_jsonl"),
]
