from __future__ import annotations

from django.urls import path

from api import settings_views, webhook_views

app_name = "api_settings"

urlpatterns = [
    path("", settings_views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", settings_views.token_revoke, name="token_revoke"),
    path("webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/toggle/", webhook_views.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path("webhooks/deliveries/<int:pk>/redeliver/", webhook_views.delivery_redeliver, name="delivery_redeliver"),
]
