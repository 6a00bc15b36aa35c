"""Import pages: upload, map CSV columns, preview with duplicates, progress, result."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm import permissions
from crm.access import get_for_workspace_or_404, workspace_required
from crm.ids import parse_id
from crm.permissions import capability_required
from crm.ratelimit import rate_limited
from crm.requests import WorkspaceRequest
from imports import selectors, services
from imports.forms import DecisionForm, MappingForm, UploadForm
from imports.models import ImportJob, ImportRow


@capability_required("import")
@rate_limited("import_upload_per_user")
def import_page(request: WorkspaceRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_upload(
                workspace=request.workspace, user=request.user, file_name=upload.name, data=upload.read()
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            return redirect(job)
    jobs = selectors.import_jobs_recent(request.workspace)
    return render(
        request,
        "imports/import_page.html",
        {"form": form, "jobs": jobs, "max_age_days": settings.IMPORT_UPLOAD_MAX_AGE_DAYS},
    )


def _job(request: WorkspaceRequest, job_id: int) -> ImportJob:
    return get_for_workspace_or_404(request, ImportJob.objects.defer("data"), pk=job_id)


@workspace_required
def job_detail(request: WorkspaceRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    context: dict[str, object] = {"job": job}
    if job.status == ImportJob.Status.MAPPING:
        context["form"] = MappingForm(job=job, samples=selectors.import_csv_samples(job))
    elif job.status == ImportJob.Status.READY and job.kind != ImportJob.Kind.BACKUP:
        context.update(selectors.import_preview(request.workspace, job=job))
        context["form"] = DecisionForm()
    elif job.status in {ImportJob.Status.DONE, ImportJob.Status.RUNNING}:
        context.update(selectors.import_result(request.workspace, job=job, page=request.GET.get("page")))
    return render(request, "imports/job_detail.html", context)


@workspace_required
def job_progress(request: WorkspaceRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    response = render(request, "imports/_progress.html", {"job": job})
    if not job.is_working and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the next step (preview or result) is a whole page
    return response


@require_POST
@workspace_required
def job_mapping(request: WorkspaceRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    form = MappingForm(request.POST, job=job, samples=selectors.import_csv_samples(job))
    if form.is_valid():
        try:
            services.import_set_mapping(job=job, mapping=form.mapping())
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            return redirect(job)
    return render(request, "imports/job_detail.html", {"job": job, "form": form}, status=400)


@require_POST
@workspace_required
def job_go(request: WorkspaceRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    if job.kind == ImportJob.Kind.BACKUP:
        permissions.require(request.membership, "restore")  # an owner's upload, started by an owner
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to do with possible duplicates.")
        return redirect(job)
    actions = {}
    valid = set(ImportRow.Action.values)
    for key, value in request.POST.items():
        row_id = parse_id(key.removeprefix("row-")) if key.startswith("row-") else None
        if row_id is not None and value in valid:
            actions[row_id] = value
    try:
        services.import_start(job=job, default_action=form.cleaned_data["default_action"], actions=actions)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Import started. You can leave this page; it carries on without you.")
    return redirect(job)


@require_POST
@workspace_required
def job_cancel(request: WorkspaceRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    if services.import_cancel(job=job):
        messages.success(request, "Import cancelled. Nothing was written.")
        return redirect("imports:page")
    messages.error(request, "This import is already under way or finished; it cannot be cancelled now.")
    return redirect(job)
