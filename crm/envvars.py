"""Strict readers for the environment's booleans and whole numbers (crm/settings.py uses them).

django-environ reads any boolean it does not recognise as False, so ``DJANGO_DEBUG=ture`` or
``SECURE_SSL_REDIRECT=ture`` quietly turned a setting off. Here a value that is neither a known
yes nor a known no stops start-up with a message naming the variable and what it accepts. Unset
or empty means the default, as an empty line in an env file usually means "not set".
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

# django-environ's true strings, so every value that turned a setting on still does.
TRUE_STRINGS = ("1", "true", "yes", "y", "on", "ok")
FALSE_STRINGS = ("0", "false", "no", "n", "off")


def env_bool(name: str, *, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    """``name`` as a boolean: one of TRUE_STRINGS or FALSE_STRINGS, any case; unset or empty is ``default``."""
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in TRUE_STRINGS:
        return True
    if raw.lower() in FALSE_STRINGS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a yes or no: use one of {', '.join(TRUE_STRINGS)} to turn it on, "
        f"one of {', '.join(FALSE_STRINGS)} to turn it off, or leave it unset for the default "
        f"({'on' if default else 'off'})."
    )


def env_int(
    name: str,
    *,
    default: int,
    minimum: int = 0,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """``name`` as a whole number from ``minimum`` to ``maximum``; unset or empty is ``default``.

    Every number Rapport reads is a count, a size or a duration, so none may be negative.
    """
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default
    accepted = f"a whole number from {minimum}" + (f" to {maximum}" if maximum is not None else " up")
    # int() also takes "1_000", " 7" and "٣" (other scripts' digits): only plain ASCII digits here.
    digits = raw[1:] if raw[:1] in "+-" else raw
    if not (digits.isascii() and digits.isdigit()):
        raise ImproperlyConfigured(f"{name}={raw!r} is not {accepted} (or leave it unset for {default}).")
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name}={raw!r} is out of range: use {accepted} (or leave it unset for {default}).")
    return value
