"""Settings → API → Webhooks (owners): endpoints, their secrets, the delivery log, redeliver."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from api import webhooks
from api.forms import WebhookForm
from api.models import WebhookDelivery, WebhookEndpoint
from crm.access import get_for_workspace_or_404, owner_required
from crm.requests import WorkspaceRequest
from people.forms import add_service_error

LOG_SHOWN = 50


@owner_required
def webhook_list(request: WorkspaceRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None, choices=webhooks.EVENTS)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhooks.endpoint_create(
                membership=request.membership,
                url=form.cleaned_data["url"],
                events_wanted=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Webhook {endpoint.url} added: verify what it receives with its secret below.")
            return redirect("api_settings:webhooks")
    endpoints = list(WebhookEndpoint.objects.for_workspace(request.workspace))
    deliveries = list(WebhookDelivery.objects.for_workspace(request.workspace).select_related("endpoint")[:LOG_SHOWN])
    context = {"form": form, "endpoints": endpoints, "deliveries": deliveries, "event_names": webhooks.EVENTS}
    return render(request, "api/webhook_list.html", context)


@require_POST
@owner_required
def webhook_toggle(request: WorkspaceRequest, pk: int) -> HttpResponse:
    endpoint = get_for_workspace_or_404(request, WebhookEndpoint, pk=pk)
    turn_on = not endpoint.enabled
    webhooks.endpoint_set_enabled(membership=request.membership, endpoint=endpoint, enabled=turn_on)
    messages.success(request, f"Webhook {endpoint.url} turned {'on' if turn_on else 'off'}.")
    return redirect("api_settings:webhooks")


@require_POST
@owner_required
def webhook_delete(request: WorkspaceRequest, pk: int) -> HttpResponse:
    endpoint = get_for_workspace_or_404(request, WebhookEndpoint, pk=pk)
    webhooks.endpoint_delete(membership=request.membership, endpoint=endpoint)
    messages.success(request, f"Webhook {endpoint.url} deleted.")
    return redirect("api_settings:webhooks")


@require_POST
@owner_required
def delivery_redeliver(request: WorkspaceRequest, pk: int) -> HttpResponse:
    delivery = get_for_workspace_or_404(request, WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    try:
        webhooks.delivery_redeliver(membership=request.membership, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Sending {delivery.event} to {delivery.endpoint.url} again.")
    return redirect("api_settings:webhooks")
