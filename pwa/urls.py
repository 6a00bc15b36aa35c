"""The phone app's files at the site's root (a service worker's scope is its own folder)."""

from __future__ import annotations

from django.urls import path

from pwa import views

urlpatterns = [
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
]
