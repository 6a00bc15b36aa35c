"""The VAPID key pair that signs Rapport's Web Push messages (py-vapid, pywebpush's own).

From ``VAPID_PRIVATE_KEY`` when set (every machine that sends must share it), else from
``VAPID_KEY_FILE``, made there on first use: one machine (``make run``) needs no setup.
"""

from __future__ import annotations

import base64
import functools

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from py_vapid import Vapid02


@functools.cache
def key() -> Vapid02:
    if settings.VAPID_PRIVATE_KEY:
        return Vapid02.from_string(settings.VAPID_PRIVATE_KEY)
    path = settings.VAPID_KEY_FILE
    if not path.exists():
        made = Vapid02()
        made.generate_keys()
        path.parent.mkdir(parents=True, exist_ok=True)
        made.save_key(str(path))
        path.chmod(0o600)
    return Vapid02.from_file(str(path))


def public_key() -> str:
    """The application server key a browser subscribes with (base64url, no padding)."""
    raw = key().public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
