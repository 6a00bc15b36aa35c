from __future__ import annotations

from django.urls import path

from api import settings_views

app_name = "api_settings"

urlpatterns = [
    path("", settings_views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", settings_views.token_revoke, name="token_revoke"),
]
