"""The reminders pages served at the site's root, outside the ``reminders:`` namespace."""

from __future__ import annotations

from django.urls import path

from reminders import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
