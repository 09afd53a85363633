from django.urls import path

from cloudjudge.web.registries import views

app_name = "registries"

urlpatterns = [
    path("", views.entry_list, name="list"),
    path("entries/new/", views.entry_edit, name="entry_create"),
    path("entries/<int:pk>/", views.entry_detail, name="entry"),
    path("entries/<int:pk>/edit/", views.entry_edit, name="entry_edit"),
    path("import/", views.import_view, name="import"),
    path("template/<str:kind>.xlsx", views.template_download, name="template"),
    path("snapshots/", views.snapshot_list, name="snapshots"),
    path("snapshots/<int:pk>/", views.snapshot_detail, name="snapshot"),
    path("check/", views.check_view, name="check"),
    path("relinks/", views.relink_list, name="relinks"),
    path("relinks/<int:pk>/", views.relink_decide, name="relink_decide"),
    path("services/<int:pk>/", views.service_view, name="service"),
    path("applications/<int:pk>/rejudge/", views.rejudge_view, name="rejudge"),
]
