"""URLs of the document pages (issue 6), added to the register's namespace."""

from django.urls import path

from cloudjudge.web.register import document_views

urlpatterns = [
    path("applications/report.pdf", document_views.register_report, name="register_pdf"),
    path(
        "applications/<int:pk>/questionnaire.xlsx",
        document_views.questionnaire_download,
        name="questionnaire_download",
    ),
    path(
        "applications/<int:pk>/questionnaire/import/",
        document_views.questionnaire_import,
        name="questionnaire_import",
    ),
    path(
        "applications/<int:pk>/questionnaire/<int:imp>/",
        document_views.questionnaire_review,
        name="questionnaire_review",
    ),
    path(
        "applications/<int:pk>/questionnaire/<int:imp>/workbook.xlsx",
        document_views.questionnaire_workbook,
        name="questionnaire_workbook",
    ),
    path(
        "applications/<int:pk>/procurement.<str:fmt>",
        document_views.application_procurement,
        name="procurement",
    ),
    path("applications/<int:pk>/report.pdf", document_views.application_report, name="report_pdf"),
    path(
        "catalog/procurement.<str:fmt>",
        document_views.catalog_procurement,
        name="catalog_procurement",
    ),
]
