from django.urls import path

from cloudjudge.web.register import revision_views, views

app_name = "register"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("applications/", views.register_list, name="list"),
    path("applications/new/", views.application_create, name="create"),
    path("applications/preview/", views.application_preview, name="preview"),
    path("applications/service-status/", views.service_status, name="service_status"),
    path("applications/<int:pk>/", views.application_detail, name="detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="edit"),
    path("applications/<int:pk>/action/", views.application_action, name="action"),
    path(
        "applications/<int:pk>/conditional-approval/",
        views.conditional_approval,
        name="conditional",
    ),
    path(
        "applications/<int:pk>/judgements/<int:judgement_pk>/",
        views.judgement_detail,
        name="judgement",
    ),
    path(
        "applications/<int:pk>/checklist/<int:item_pk>/",
        views.checklist_item,
        name="checklist_item",
    ),
    path(
        "applications/<int:pk>/checklist/<int:item_pk>/row/",
        views.checklist_row,
        name="checklist_row",
    ),
    path("applications/<int:pk>/checklist/bulk/", views.checklist_bulk, name="checklist_bulk"),
    path(
        "applications/<int:pk>/checklist/<int:item_pk>/evidence/",
        views.evidence_upload,
        name="evidence_upload",
    ),
    path("applications/<int:pk>/exit/<str:step>/", views.exit_step, name="exit_step"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("reviews/", views.review_queue, name="reviews"),
    path("catalog/", views.catalog, name="catalog"),
    path("catalog/versions/", revision_views.versions, name="versions"),
    path("catalog/diff/", revision_views.catalog_diff, name="catalog_diff"),
    path("catalog/rejudge/", revision_views.rejudge_report, name="rejudge"),
    path("catalog/rejudge/apply/", revision_views.rejudge_apply, name="rejudge_apply"),
]
