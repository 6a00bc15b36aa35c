"""The email settings page (address, approved senders, unmatched and failed email) and a
received email's original."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm.access import get_for_workspace_or_404, workspace_required
from crm.permissions import any_role
from crm.requests import WorkspaceRequest
from inbound import selectors, services
from inbound.forms import ApproveSenderForm, AttachForm, NewPersonForm
from inbound.models import ApprovedSender, InboundMessage

Status = InboundMessage.Status


@workspace_required
def settings_page(request: WorkspaceRequest, approve_form: ApproveSenderForm | None = None) -> HttpResponseBase:
    address = services.address_for(workspace=request.workspace, user=request.user)
    ws, user = request.workspace, request.user
    context = {
        "address": address,
        "senders": selectors.approved_senders(ws, address=address),
        "approve_form": approve_form or ApproveSenderForm(),
        "unmatched": selectors.messages_of(ws, user=user, status=Status.UNMATCHED),
        "failed": selectors.messages_of(ws, user=user, status=Status.FAILED),
        "ignored": selectors.messages_of(ws, user=user, status=Status.IGNORED, limit=10),
        "mailbox": selectors.mailbox_health(),
        "configured": bool(settings.INBOUND_ADDRESS),
    }
    return render(request, "inbound/settings.html", context, status=400 if approve_form else 200)


@require_POST
@workspace_required
@any_role  # the user's own address, whatever their role
def address_rotate(request: WorkspaceRequest) -> HttpResponse:
    address = services.address_for(workspace=request.workspace, user=request.user)
    services.address_rotate(address=address)
    messages.success(request, f"Your new logging address is {address.email}. The old one no longer works.")
    return redirect("inbound:settings")


@require_POST
@workspace_required
@any_role
def sender_approve(request: WorkspaceRequest) -> HttpResponseBase:
    form = ApproveSenderForm(request.POST)
    if not form.is_valid():
        return settings_page(request, approve_form=form)
    address = services.address_for(workspace=request.workspace, user=request.user)
    services.sender_approve(address=address, email=form.cleaned_data["email"])
    messages.success(request, f"Email from {form.cleaned_data['email'].lower()} is now accepted as yours.")
    return redirect("inbound:settings")


@require_POST
@workspace_required
@any_role
def sender_remove(request: WorkspaceRequest, pk: int) -> HttpResponse:
    sender = get_for_workspace_or_404(request, ApprovedSender.objects.filter(address__user=request.user), pk=pk)
    services.sender_remove(sender=sender)
    messages.success(request, f"Email from {sender.email} is no longer accepted.")
    return redirect("inbound:settings")


@workspace_required
def message_detail(request: WorkspaceRequest, pk: int) -> HttpResponse:
    visible = selectors.message_visible(request.workspace, user=request.user)
    message = get_for_workspace_or_404(request, visible.select_related("interaction"), pk=pk)
    return render(request, "inbound/message_detail.html", {"message": message, "headers": _headers(message)})


def _headers(message: InboundMessage) -> list[tuple[str, str]]:
    from inbound.parsing import header_text, read

    msg = read(bytes(message.raw))
    names = ("From", "To", "Cc", "Date", "Subject", "Message-ID")
    return [(name, value) for name in names if (value := header_text(msg, name))]


@workspace_required
def message_raw(request: WorkspaceRequest, pk: int) -> HttpResponse:
    visible = selectors.message_visible(request.workspace, user=request.user)
    message = get_for_workspace_or_404(request, visible, pk=pk)
    response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="email-{message.pk}.eml"'
    return response


@workspace_required
def message_attach(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """An unmatched email: log it with someone, or with a new person made from its address."""
    message = get_for_workspace_or_404(request, InboundMessage.objects.filter(user=request.user), pk=pk)
    first = message.candidates[0] if message.candidates else ["", ""]
    name = (first[0] or "").split(" ", 1)
    attach_form = AttachForm(workspace=request.workspace)
    new_form = NewPersonForm(
        initial={"first_name": name[0], "last_name": name[1] if len(name) > 1 else "", "email": first[1]}
    )
    if request.method == "POST" and message.status == Status.UNMATCHED:
        try:
            if request.POST.get("action") == "new":
                new_form = NewPersonForm(request.POST)
                if new_form.is_valid():
                    services.message_create_person(
                        membership=request.membership, message=message, **new_form.cleaned_data
                    )
                    messages.success(
                        request, f"{new_form.cleaned_data['first_name']} added, with the email on their timeline."
                    )
                    return redirect("inbound:settings")
            else:
                attach_form = AttachForm(request.POST, workspace=request.workspace)
                if attach_form.is_valid():
                    person = attach_form.cleaned_data["person"]
                    services.message_attach(membership=request.membership, message=message, person=person)
                    messages.success(request, f"The email is on {person.full_name}'s timeline.")
                    return redirect("inbound:settings")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    context = {"message": message, "attach_form": attach_form, "new_form": new_form}
    return render(request, "inbound/message_attach.html", context, status=400 if request.method == "POST" else 200)


@require_POST
@workspace_required
def message_retry(request: WorkspaceRequest, pk: int) -> HttpResponse:
    message = get_for_workspace_or_404(request, InboundMessage.objects.filter(user=request.user), pk=pk)
    try:
        message = services.message_retry(message=message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Tried again: {message.get_status_display().lower()}. {message.reason}".strip())
    return redirect("inbound:settings")
