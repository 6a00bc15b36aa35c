from __future__ import annotations

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("", views.export_page, name="page"),
    path("people.vcf", views.people_vcf, name="vcf"),
    path("people.csv", views.people_csv, name="csv"),
    path("workspace.zip", views.workspace_backup, name="backup"),
    path("calendar/", views.feed_create, name="feed_create"),
    path("calendar/off/", views.feed_revoke, name="feed_revoke"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
    path("retention/", views.retention_settings, name="retention"),
    path("people/<int:pk>/privacy/", views.person_privacy, name="person_privacy"),
    path("people/<int:pk>/subject-access.zip", views.subject_access, name="subject_access"),
]
