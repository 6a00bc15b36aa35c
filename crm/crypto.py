"""Private text sealed at rest: what Rapport keeps of health, religion, politics and topics to
avoid is stored encrypted, with keys from the environment (``FIELD_ENCRYPTION_KEYS``).

``cryptography``'s Fernet (AES-128-CBC with an HMAC-SHA256, a maintained library, no
hand-made crypto) through MultiFernet: the first key seals, every key listed opens, so a new key
is put first, ``manage.py rotate_encryption_key`` reseals everything with it, and the old key
can then be dropped. A sealed value is stored as ``fernet:<token>``; a value without the prefix
is plain text (a row from before sealing, or a backup made before it), read as it is and sealed
at its next save.

``SealedTextField`` seals when the row is saved (``save()`` and ``bulk_create`` both ask the
field's ``pre_save``) and opens when it is read. Sealed text matches no filter and no search:
a substring of a Fernet token is noise, so private facts never turn up in search, the trigram
indexes or "who might be interested".
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models

PREFIX = "fernet:"


@functools.cache
def _keys() -> MultiFernet:
    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: private facts cannot be sealed.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key (make one with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).'
        ) from exc


def forget_keys() -> None:
    """Read ``FIELD_ENCRYPTION_KEYS`` again (after a test or a rotation changes it)."""
    _keys.cache_clear()


def is_sealed(stored: str | None) -> bool:
    return bool(stored) and str(stored).startswith(PREFIX)


def seal(text: str) -> str:
    """``text`` encrypted with the first key; empty text and sealed text are left as they are."""
    if not text or is_sealed(text):
        return text
    return PREFIX + _keys().encrypt(text.encode()).decode()


class SealBroken(ValueError):
    """A sealed value that none of the keys opens."""


def unseal(stored: str) -> str:
    """The text of a sealed value (plain text is returned as it is)."""
    if not is_sealed(stored):
        return stored
    try:
        return _keys().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise SealBroken("A private value was sealed with a key that is not in FIELD_ENCRYPTION_KEYS.") from exc


class SealedTextField(models.TextField):
    """A text column stored sealed. ``sealed_when`` names a boolean field of the model: only
    rows where it is true are sealed (a fact is private or not by its kind); without it, every
    non-empty value is."""

    def __init__(self, *args: Any, sealed_when: str = "", **kwargs: Any) -> None:
        self.sealed_when = sealed_when
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.sealed_when:
            kwargs["sealed_when"] = self.sealed_when
        return name, path, args, kwargs

    def seals(self, obj: models.Model) -> bool:
        return not self.sealed_when or bool(getattr(obj, self.sealed_when))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = super().pre_save(model_instance, add)
        return seal(value) if value and self.seals(model_instance) else unseal(value or "")

    def stored_value(self, obj: models.Model) -> str:
        """The value as the database holds it: what a backup keeps."""
        return str(self.pre_save(obj, add=False) or "")

    def get_prep_value(self, value: Any) -> Any:
        # TextField's would run ``to_python``, which opens sealed text: what ``pre_save`` sealed
        # is written as it is.
        value = models.Field.get_prep_value(self, value)
        return value if value is None else str(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        try:
            return unseal(value)
        except SealBroken as exc:
            raise ImproperlyConfigured(str(exc)) from exc

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not isinstance(value, str):
            return value
        try:
            return unseal(value)  # a sealed value from a backup: its text, sealed again when saved
        except SealBroken as exc:
            raise ValidationError(
                "It holds private text sealed with another encryption key: restore it where "
                "FIELD_ENCRYPTION_KEYS has that key."
            ) from exc
