"""Template helpers for conversations."""

from __future__ import annotations

from django import template

from interactions.models import kind_for_channel

register = template.Library()


@register.filter
def log_kind(channel: str) -> str:
    """The kind a "Log" link for someone with this preferred channel starts with: "whatsapp"."""
    return kind_for_channel(channel or "")
