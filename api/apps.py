from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from api import schema, webhooks  # noqa: F401  (registers the token's security scheme)

        webhooks.connect()  # deliveries for what services publish (crm.events)
