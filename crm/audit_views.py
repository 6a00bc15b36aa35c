"""The audit log's pages: an owner's view of the workspace (with CSV), and everyone's own."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from crm import audit
from crm.access import owner_required
from crm.forms import AuditFilterForm
from crm.pagination import Key, Ordering, keyset_page
from crm.requests import AuthenticatedHttpRequest, WorkspaceRequest

PAGE_SIZE = 50
NEWEST_FIRST = Ordering((Key("created_at", descending=True), Key("id", descending=True)))


def _page(request: AuthenticatedHttpRequest, events: object, form: AuditFilterForm, template: str) -> HttpResponse:
    page = keyset_page(
        form.filter_qs(events),
        NEWEST_FIRST,
        per_page=PAGE_SIZE,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    query_string = request.GET.copy()
    for name in ("after", "before"):
        query_string.pop(name, None)
    context = {
        "page": page,
        "form": form,
        "query_string": query_string.urlencode(),
        "retention_days": settings.AUDIT_RETENTION_DAYS,
    }
    return render(request, template, context)


@owner_required
def workspace_audit(request: WorkspaceRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, workspace=request.workspace)
    return _page(request, audit.audit_events_of_workspace(request.workspace), form, "crm/audit_workspace.html")


@owner_required
def workspace_audit_csv(request: WorkspaceRequest) -> StreamingHttpResponse:
    """The filtered log as CSV; taking it is itself in the log."""
    form = AuditFilterForm(request.GET or None, workspace=request.workspace)
    events = form.filter_qs(audit.audit_events_of_workspace(request.workspace)).order_by("-created_at", "-id")
    audit.audit_record(
        action=audit.Action.AUDIT_EXPORTED, membership=request.membership, summary="Exported the audit log as CSV"
    )
    response = StreamingHttpResponse(audit.audit_csv(events.iterator(chunk_size=500)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="rapport-audit-{timezone.localdate().isoformat()}.csv"'
    return response


@login_required
def my_activity(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    return _page(request, audit.audit_events_of_user(request.user), form, "crm/audit_mine.html")
