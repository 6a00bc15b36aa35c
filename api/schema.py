"""The OpenAPI schema's shared parts: the bearer token, and the error answers of every
operation (problem details, RFC 9457), which drf-spectacular cannot see from the views."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM = {
    "type": "object",
    "description": "A problem details document (RFC 9457).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "about:blank: the status says what went wrong."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        "instance": {"type": "string", "description": "The path asked for."},
        "errors": {
            "type": "array",
            "description": "For 400: one entry per message, with the field it is about.",
            "items": {
                "type": "object",
                "required": ["pointer", "field", "detail"],
                "properties": {
                    "pointer": {
                        "type": "string",
                        "description": "JSON pointer into the body, e.g. #/contact_methods/0/value",
                    },
                    "field": {
                        "type": "string",
                        "description": "The same as a dotted name, e.g. contact_methods.0.value",
                    },
                    "detail": {"type": "string"},
                },
            },
        },
    },
}
PROBLEMS = {
    "400": "Invalid input: see errors.",
    "401": "No token, or one that is not valid (revoked, or its user left the workspace).",
    "403": "The token or its user's role cannot do this.",
    "404": "Not found in this token's workspace.",
    "406": "Only JSON is served.",
    "429": "Too many requests with this token: see Retry-After.",
}
WRITE_PROBLEMS = {
    "415": "The body must be JSON.",
    "422": "The Idempotency-Key was used for another request.",
}


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from Settings → API (or `manage.py api_token create`): `Bearer rpt_...`.",
        }


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def add_problems(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Every operation: its error answers; reads their ETag and 304; creates Idempotency-Key."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    retry_after = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            for code, description in PROBLEMS.items():
                responses.setdefault(code, _problem(description, retry_after if code == "429" else None))
            parameters = operation.setdefault("parameters", [])
            if method == "get":
                parameters.append(
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "An ETag from an earlier answer: 304 if nothing changed.",
                    }
                )
                responses.setdefault("304", {"description": "Not modified since the ETag sent."})
                ok = responses.get("200")
                if ok is not None:
                    ok.setdefault("headers", {})["ETag"] = {"schema": {"type": "string"}}
            else:
                for code, description in WRITE_PROBLEMS.items():
                    responses.setdefault(code, _problem(description))
            if method == "post" and "201" in responses:
                parameters.append(
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "Any unique string: a retry with the same key and body creates nothing "
                        "twice and gets the first answer again.",
                    }
                )
    return result
