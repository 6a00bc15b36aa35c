from __future__ import annotations

from django.urls import path

from carddav import views

app_name = "carddav"

urlpatterns = [
    path("settings/contacts/", views.dav_settings, name="settings"),
    path("settings/contacts/<int:password_id>/revoke/", views.password_revoke, name="password_revoke"),
    path("settings/contacts/books/<int:workspace_id>/", views.book_scope, name="book_scope"),
    # Discovery: iPhone, macOS, DAVx5 and Thunderbird ask here when given only the site's address.
    path(".well-known/carddav", views.well_known, name="well_known"),
    path("dav/", views.dav, name="dav_root"),
    path("dav/<path:path>", views.dav, name="dav"),
]
