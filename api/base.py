"""What every API view shares: JSON in and out, ETags on reads, ``Idempotency-Key`` on creates."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponseBase
from django.utils.cache import get_conditional_response
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.access import token_of
from api.models import IdempotentRequest
from api.problems import problem
from crm.ids import parse_id

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ApiView(APIView):
    """An API view: a GET answered 200 carries a strong ETag of its body, and one sent with a
    matching ``If-None-Match`` is answered 304 with no body. An id in the path too long for the
    database is a 404, as on the pages."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if "pk" in kwargs and parse_id(kwargs["pk"]) is None:
            raise exceptions.NotFound()

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in {"GET", "HEAD"} and response.status_code == 200 and isinstance(response, Response):
            response.render()
            response["ETag"] = f'"{hashlib.sha256(response.content).hexdigest()[:40]}"'
            # Private data: a shared cache keeps nothing; a client may keep it and ask again with the ETag.
            response["Cache-Control"] = "private, no-cache"
            response["Vary"] = "Authorization"
            conditional = get_conditional_response(request, etag=response["ETag"], response=response)
            if conditional is not None and conditional is not response:
                return conditional
        return response


def _as_json(data: Any) -> Any:
    return json.loads(JSONRenderer().render(data))


def _replay(request: Request, stored: IdempotentRequest, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        return problem(
            422,
            detail=f"The {IDEMPOTENCY_HEADER} {stored.key!r} was already used for another request: use a new key.",
            request=request,
        )
    response = Response(stored.body, status=stored.status_code, headers={"Idempotent-Replayed": "true"})
    if stored.location:
        response["Location"] = stored.location
    return response


def idempotent(request: Request, create: Callable[[], Response]) -> Response:
    """Run ``create`` once per ``Idempotency-Key`` of this token: a retry with the same key and
    body gets the first answer again and creates nothing; the same key with another body is a 422.

    The key's row is written in the create's transaction, so a create that failed (a 400)
    leaves no key behind, and two requests racing with one key create once: the second waits
    on the unique index, then replays the first one's answer.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        return create()
    if len(key) > 255 or not key.isprintable():
        raise exceptions.ValidationError({IDEMPOTENCY_HEADER: ["Use at most 255 printable characters."]})
    token = token_of(request)
    body = json.dumps(_as_json(request.data), sort_keys=True)
    fingerprint = hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()
    stored = IdempotentRequest.objects.filter(token=token, key=key).first()
    if stored is not None:
        return _replay(request, stored, fingerprint)
    try:
        with transaction.atomic():
            response = create()
            if 200 <= response.status_code < 300:
                IdempotentRequest.objects.create(
                    token=token,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    body=_as_json(response.data),
                    location=response.get("Location", ""),
                )
    except IntegrityError:
        stored = IdempotentRequest.objects.filter(token=token, key=key).first()
        if stored is None:
            raise
        return _replay(request, stored, fingerprint)
    return response
