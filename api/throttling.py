"""Rate limits per token, counted in the shared "ratelimit" cache like every other limit."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken

logger = logging.getLogger(__name__)


class TokenRateThrottle(SimpleRateThrottle):
    """``RATE_LIMIT_API_PER_TOKEN`` (e.g. 600/m) per token; past it a 429 with Retry-After."""

    scope = "api_per_token"

    @property
    def cache(self) -> Any:
        # Looked up per request: tests (and settings changes) swap the cache under their feet.
        return caches["ratelimit"]

    def get_rate(self) -> str:
        return settings.RATE_LIMITS["api_per_token"]

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        return f"rapport.api.token.{token.pk}" if isinstance(token, ApiToken) else None

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:
            # A cache that is down must not take the API down with it (as crm.ratelimit).
            logger.warning("API rate limit not counted: the cache did not answer", exc_info=True)
            return True
