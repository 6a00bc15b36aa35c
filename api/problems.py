"""Every API error as a problem details document (RFC 9457), never an HTML page.

``{"type", "title", "status", "detail", "instance"}``, and for invalid input ``errors``: one
entry per message with the field it is about as a JSON pointer into the request body
(``#/contact_methods/0/value``) and its dotted ``field`` name.
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from rest_framework import exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TITLES = {
    400: "Your request has invalid fields.",
    401: "A valid API token is needed.",
    403: "This token cannot do that.",
    404: "Not found.",
    405: "This method is not allowed here.",
    406: "Only JSON is served here.",
    409: "This conflicts with a request in progress.",
    412: "The resource changed since you read it.",
    415: "Send JSON (Content-Type: application/json).",
    422: "This Idempotency-Key was used for another request.",
    429: "Too many requests.",
    500: "Something went wrong on our side.",
}


def _flatten(detail: Any, path: tuple[str, ...] = ()) -> list[dict[str, str]]:
    if isinstance(detail, dict):
        return [e for key, value in detail.items() for e in _flatten(value, (*path, str(key)))]
    if isinstance(detail, list) and detail and all(isinstance(d, str) for d in detail):
        return [_error(path, str(d)) for d in detail]
    if isinstance(detail, list):
        return [e for i, value in enumerate(detail) for e in _flatten(value, (*path, str(i)))]
    return [_error(path, str(detail))]


def _error(path: tuple[str, ...], message: str) -> dict[str, str]:
    fields = [p for p in path if p not in {"non_field_errors", "__all__"}]
    return {"pointer": "#/" + "/".join(fields) if fields else "#", "field": ".".join(fields), "detail": message}


def problem(
    status: int, *, detail: str = "", request: HttpRequest | None = None, errors: list[dict[str, str]] | None = None
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, HTTPStatus(status).phrase),
        "status": status,
        "detail": detail or TITLES.get(status, HTTPStatus(status).phrase),
    }
    if request is not None:
        body["instance"] = request.path
    if errors is not None:
        body["errors"] = errors
    return Response(body, status=status, content_type=CONTENT_TYPE)


def django_validation_detail(exc: DjangoValidationError) -> Any:
    """A service's ValidationError as DRF's detail: by field when it has fields."""
    if hasattr(exc, "error_dict"):
        return {field: [m for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"non_field_errors": exc.messages}


def problem_details(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's exception handler: every error a problem document (a 500 too, logged)."""
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_detail(exc))
    if not isinstance(exc, exceptions.APIException):
        logger.exception("API error", exc_info=exc)
        return problem(500, request=request)
    status = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        response = problem(status, request=request, errors=_flatten(exc.detail))
    else:
        detail = exc.detail if isinstance(exc.detail, str) else ""
        response = problem(status, detail=str(detail), request=request)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        response.data["detail"] = f"Too many requests with this token: try again in {response['Retry-After']} s."
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        response["WWW-Authenticate"] = auth_header
    return response
