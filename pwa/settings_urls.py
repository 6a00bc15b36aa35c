"""The phone app's settings page, at /settings/phone/."""

from __future__ import annotations

from django.urls import path

from pwa import views

app_name = "pwa"

urlpatterns = [
    path("", views.push_settings, name="settings"),
    path("subscribe/", views.push_subscribe, name="subscribe"),
    path("<int:pk>/revoke/", views.push_revoke, name="revoke"),
]
