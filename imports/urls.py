from __future__ import annotations

from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_page, name="page"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/progress/", views.job_progress, name="progress"),
    path("<int:job_id>/mapping/", views.job_mapping, name="mapping"),
    path("<int:job_id>/go/", views.job_go, name="go"),
    path("<int:job_id>/cancel/", views.job_cancel, name="cancel"),
]
