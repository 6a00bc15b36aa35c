"""The top-bar search, at /search/: it reads across people and interactions, so it lives here."""

from __future__ import annotations

from django.urls import path

from interactions import views

app_name = "search"

urlpatterns = [path("", views.search, name="results")]
