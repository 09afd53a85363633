"""URLs of the documents made from the register: the blank questionnaire, the
procurement text, the PDF reports and the CSV/Excel exports."""

from django.urls import path

from cloudjudge.web.documents import export_views, views

app_name = "documents"

urlpatterns = [
    path("applications/export.csv", export_views.register_csv, name="export_csv"),
    path("applications/export.xlsx", export_views.register_xlsx, name="export_xlsx"),
    path(
        "applications/<int:pk>/checklist.xlsx",
        export_views.checklist_xlsx,
        name="checklist_xlsx",
    ),
    path(
        "applications/<int:pk>/assessment-results.json",
        export_views.assessment_results_json,
        name="assessment_results",
    ),
    path("catalog/rejudge.<str:fmt>", export_views.rejudge_export, name="rejudge_export"),
    path("applications/report.pdf", views.register_report, name="register_pdf"),
    path(
        "applications/<int:pk>/questionnaire.xlsx",
        views.questionnaire_download,
        name="questionnaire_download",
    ),
    path(
        "applications/<int:pk>/procurement.<str:fmt>",
        views.application_procurement,
        name="procurement",
    ),
    path("applications/<int:pk>/report.pdf", views.application_report, name="report_pdf"),
    path(
        "catalog/procurement.<str:fmt>",
        views.catalog_procurement,
        name="catalog_procurement",
    ),
]
