"""The digests pages served at the site's root, outside the ``digests:`` namespace."""

from __future__ import annotations

from django.urls import path

from digests import views

urlpatterns = [
    path("", views.account_settings, name="account_settings"),
]
