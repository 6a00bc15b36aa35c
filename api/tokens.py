"""Token secrets: how they look, how they are made and how one is found again."""

from __future__ import annotations

import hashlib
import secrets

# "rpt_" says what it is (secret scanners and people both recognise it); 43 URL-safe
# characters are 32 random bytes.
PREFIX = "rpt_"
SHOWN_PREFIX_LENGTH = len(PREFIX) + 6


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
