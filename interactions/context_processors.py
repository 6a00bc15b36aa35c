from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crm.access import current_membership
from interactions.forms import QuickLogForm


def quick_log(request: HttpRequest) -> dict[str, Any]:
    """The quick-log form behind the top bar's "Log" button and the L key, on every page."""
    membership = current_membership(request)
    if membership is None:
        return {}
    return {"quick_form": QuickLogForm(workspace=membership.workspace)}
