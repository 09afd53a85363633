"""URLs of a filled questionnaire coming back (import, review, the returned workbook)."""

from django.urls import path

from cloudjudge.web.questionnaires import views

app_name = "questionnaires"

urlpatterns = [
    path("applications/<int:pk>/questionnaire/import/", views.import_workbook, name="import"),
    path("applications/<int:pk>/questionnaire/<int:imp>/", views.review, name="review"),
    path(
        "applications/<int:pk>/questionnaire/<int:imp>/workbook.xlsx",
        views.workbook,
        name="workbook",
    ),
]
