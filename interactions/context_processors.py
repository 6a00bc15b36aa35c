from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from crm.access import current_membership
from interactions.forms import QuickLogForm


def quick_log(request: HttpRequest) -> dict[str, Any]:
    """The quick-log form behind the top bar's "Log" button and the L key, on every page."""
    membership = current_membership(request)
    if membership is None:
        return {}
    # Today in the user's time zone: the follow-up chips' dates, and the cached fields' key.
    return {"quick_form": QuickLogForm(workspace=membership.workspace), "quick_today": timezone.localdate()}
