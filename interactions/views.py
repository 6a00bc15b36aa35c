from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crm.access import workspace_required
from interactions.selectors import interaction_list


@workspace_required
def interaction_index(request: HttpRequest) -> HttpResponse:
    page = Paginator(interaction_list(request.workspace), 50).get_page(request.GET.get("page"))
    return render(request, "interactions/interaction_list.html", {"page": page})
