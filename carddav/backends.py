"""App passwords as a Django authentication backend, so django-axes throttles them as it does
logins (its backend is first in AUTHENTICATION_BACKENDS and counts every failure).

Only ``carddav.views.dav`` passes ``dav_password``: the login form's ``password`` does not bind
to ``authenticate`` here, so an app password never opens a web session, and this backend
restores no session either (``get_user`` is always None).
"""

from __future__ import annotations

from django.http import HttpRequest

from carddav import services
from crm.models import User


class AppPasswordBackend:
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, dav_password: str | None = None
    ) -> User | None:
        if request is None or not username or not dav_password:
            return None
        found = services.app_password_check(email=username, password=dav_password)
        if found is None:
            return None
        request.dav_app_password = found  # type: ignore[attr-defined]
        return found.user

    def get_user(self, user_id: int) -> User | None:
        return None
