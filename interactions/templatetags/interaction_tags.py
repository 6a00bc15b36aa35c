"""Template helpers for conversations."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.forms import BoundField
from django.utils import timezone

from interactions.forms import follow_up_chips as chips_from
from interactions.models import kind_for_channel

register = template.Library()


@register.filter
def log_kind(channel: str) -> str:
    """The kind a "Log" link for someone with this preferred channel starts with: "whatsapp"."""
    return kind_for_channel(channel or "")


@register.inclusion_tag("interactions/_follow_up_chips.html")
def follow_up_chips(field: BoundField, today: date | None = None) -> dict[str, Any]:
    """Chips under a follow-up date field that fill it in ("Tomorrow", "In a month"), dated
    from the user's today (their time zone is the active one). Shown by follow_up_chips.js."""
    return {"field_id": field.id_for_label, "chips": chips_from(today or timezone.localdate())}
