"""Export pages and the calendar feed (reached by its secret URL, no login)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_POST

from crm import permissions
from crm.access import get_for_workspace_or_404, owner_required, workspace_required
from crm.models import Workspace
from crm.permissions import any_role
from crm.requests import WorkspaceRequest
from exports import gdpr, retention, selectors, services
from exports.forms import EraseForm, FeedChoicesForm, RetentionForm
from people.forms import PersonFilterForm
from people.models import Person


def _people(request: WorkspaceRequest) -> QuerySet[Person]:
    """The people list's own filters (search, tag, owner, archived, due), so "export this list" works."""
    filters = PersonFilterForm(request.GET or None, workspace=request.workspace)
    return filters.filter_qs().order_by("last_name", "first_name", "id")


def _download(stream: Iterable[object], content_type: str, extension: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type=content_type)
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="rapport-people-{stamp}.{extension}"'
    return response


@workspace_required
def export_page(request: WorkspaceRequest) -> HttpResponse:
    feed = selectors.feed_of(request.workspace, user=request.user)
    feed_url = settings.SITE_URL + reverse("exports:feed", args=[feed.token]) if feed else ""
    context = {
        "feed": feed,
        "feed_url": feed_url,
        "feed_choices": FeedChoicesForm.for_feed(feed) if feed else None,
        "query_string": request.GET.urlencode(),
        # Named where the page says what only an owner can do.
        "owners": [] if request.membership.is_owner else permissions.workspace_owners(request.workspace),
    }
    return render(request, "exports/export_page.html", context)


@workspace_required
def people_vcf(request: WorkspaceRequest) -> StreamingHttpResponse:
    """vCards; with private facts when an owner ticks them (anyone else ticking them: the 403)."""
    include_private = request.GET.get("include_private") == "on"
    people = services.export_people(_people(request), membership=request.membership, include_private=include_private)
    return _download(services.vcards(people), "text/vcard; charset=utf-8", "vcf")


@workspace_required
def people_csv(request: WorkspaceRequest) -> StreamingHttpResponse:
    """A spreadsheet: never private facts, whoever asks (the box on the page is for vCards)."""
    people = services.export_people(_people(request), membership=request.membership, file_format="csv")
    return _download(services.csv_rows(people), "text/csv; charset=utf-8", "csv")


@workspace_required
def workspace_backup(request: WorkspaceRequest) -> StreamingHttpResponse:
    """Everything in the workspace, private facts included: owners only."""
    stream = services.workspace_backup(membership=request.membership)
    response = StreamingHttpResponse(stream, content_type="application/zip")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="rapport-workspace-{stamp}.zip"'
    return response


@require_POST
@workspace_required
@any_role  # the calendar link is the user's own: a viewer has one too
def feed_create(request: WorkspaceRequest) -> HttpResponse:
    regenerate = request.POST.get("regenerate") == "1"
    calendar = services.feed_for(user=request.user, workspace=request.workspace, regenerate=regenerate)
    if request.POST.get("choices") == "1":  # the feed's choices form posts here too: one door for the link
        form = FeedChoicesForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(str(error) for error in errors))
            return redirect("exports:page")
        services.feed_choose(feed=calendar, kinds=form.cleaned_data["kinds"], mine_only=form.cleaned_data["mine_only"])
        messages.success(request, "Calendar feed updated: calendar apps show the change at their next refresh.")
        return redirect("exports:page")
    messages.success(
        request, "New calendar link made: the old one no longer works." if regenerate else "Calendar link ready."
    )
    return redirect("exports:page")


@require_POST
@workspace_required
@any_role
def feed_revoke(request: WorkspaceRequest) -> HttpResponse:
    services.feed_revoke(user=request.user, workspace=request.workspace)
    messages.success(request, "Calendar link turned off. Calendar apps subscribed to it stop updating.")
    return redirect("exports:page")


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed; a poll that changed nothing since the app's copy is a 304 after one query, and
    one that does not say which copy it has reads the copy written for this version."""
    calendar = selectors.feed_for_token(token)
    if calendar is None:
        raise Http404("No such calendar.")
    etag = selectors.feed_etag(calendar)
    changed = selectors.feed_changed_at(calendar)
    # Django's own rules for If-None-Match / If-Modified-Since (ETag first, as RFC 9110 says).
    response = get_conditional_response(request, etag=etag, last_modified=int(changed.timestamp()), response=None)
    if response is None:
        text = services.calendar_feed_text(feed=calendar, version=etag)
        response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Last-Modified"] = http_date(changed.timestamp())
    response["Cache-Control"] = "private, max-age=900"
    return response


@workspace_required
def person_privacy(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """A person's data-subject rights: everything about them as a ZIP, or erasure (owners)."""
    permissions.require(request.membership, "export_private")
    person = get_for_workspace_or_404(request, Person, pk=pk)
    form = EraseForm(request.POST or None, person=person)
    if request.method == "POST" and form.is_valid():
        gdpr.person_erase(membership=request.membership, person=person)
        messages.success(request, "The person is erased: their record, photo and every mention of them are gone.")
        return redirect("people:list")
    return render(request, "exports/person_privacy.html", {"person": person, "form": form})


@workspace_required
def subject_access(request: WorkspaceRequest, pk: int) -> HttpResponse:
    person = get_for_workspace_or_404(request, Person, pk=pk)
    data = gdpr.subject_access_zip(membership=request.membership, person=person)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="rapport-person-{person.pk}.zip"'
    return response


@owner_required
def retention_settings(request: WorkspaceRequest) -> HttpResponse:
    """The workspace's retention rules, with a preview (GET with values) of who they would take."""
    workspace = request.workspace
    current = {"archive_years": workspace.archive_uncontacted_years, "delete_days": workspace.delete_archived_days}
    form = RetentionForm(request.POST or request.GET or None, initial=current)
    if request.method == "POST" and form.is_valid():
        retention.retention_set(
            membership=request.membership,
            archive_years=form.cleaned_data["archive_years"] or 0,
            delete_days=form.cleaned_data["delete_days"] or 0,
        )
        messages.success(request, "Retention rules saved: beat applies them once a day.")
        return redirect("exports:retention")
    values = form.cleaned_data if form.is_bound and form.is_valid() else current
    trial = Workspace(
        pk=workspace.pk,
        archive_uncontacted_years=values.get("archive_years") or 0,
        delete_archived_days=values.get("delete_days") or 0,
    )
    now = timezone.now()
    archive, delete = retention.to_archive(trial, now=now), retention.to_delete(trial, now=now)
    context = {
        "form": form,
        "archive_count": archive.count(),
        "archive_some": archive.order_by("last_name", "first_name")[:20],
        "delete_count": delete.count(),
        "delete_some": delete.order_by("last_name", "first_name")[:20],
    }
    return render(request, "exports/retention.html", context)
