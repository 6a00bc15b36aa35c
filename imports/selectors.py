"""Reads for the import pages: the recent jobs, a CSV file's first rows, the preview of what
an import will do, and the result's failures and warnings."""

from __future__ import annotations

import itertools
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from crm.models import Workspace
from imports.csvfile import CsvFileError, open_csv
from imports.models import ImportJob, ImportRow

RECENT_JOBS = 10
PREVIEW_ROWS = 20
DUPLICATES_SHOWN = 100
FAILURES_PER_PAGE = 100
WARNED_SHOWN = 200


def import_jobs_recent(workspace: Workspace) -> QuerySet[ImportJob]:
    """The workspace's latest jobs for the import page, without their (large) files."""
    return ImportJob.objects.for_workspace(workspace).defer("data", "header", "mapping")[:RECENT_JOBS]


def import_csv_samples(job: ImportJob) -> list[list[str]]:
    """The first rows of a CSV job's file, to show beside the column mapping; none if unreadable."""
    data = ImportJob.objects.filter(pk=job.pk).values_list("data", flat=True).get()
    try:
        return list(itertools.islice(open_csv(bytes(data)).rows, 5))
    except CsvFileError:
        return []


def _rows(workspace: Workspace, job: ImportJob) -> QuerySet[ImportRow]:
    return ImportRow.objects.for_workspace(workspace).filter(job=job)


def import_preview(workspace: Workspace, *, job: ImportJob) -> dict[str, Any]:
    """Counts and samples for the preview page, in a fixed number of queries."""
    rows = _rows(workspace, job)
    readable = rows.filter(error="")
    invalid = rows.exclude(error="")
    duplicates = readable.filter(duplicate_of__isnull=False)
    in_file = readable.filter(match_kind=ImportRow.MatchKind.IN_FILE)
    # Not a duplicate (or the person it matched was deleted since) and not a repeat: created.
    new = readable.filter(duplicate_of__isnull=True).exclude(match_kind=ImportRow.MatchKind.IN_FILE)
    return {
        "count_invalid": invalid.count(),
        "count_duplicates": duplicates.count(),
        "count_in_file": in_file.count(),
        "count_new": new.count(),
        "first_rows": rows.order_by("number")[:PREVIEW_ROWS],
        "duplicates": duplicates.select_related("duplicate_of__company").order_by("number")[:DUPLICATES_SHOWN],
        "invalid": invalid.order_by("number").only("number", "name", "error")[:DUPLICATES_SHOWN],
        "actions": ImportRow.Action.choices,
    }


def import_result(workspace: Workspace, *, job: ImportJob, page: str | None) -> dict[str, Page | QuerySet[ImportRow]]:
    """The rows the result page lists: failures (a page of them) and those imported with warnings."""
    rows = _rows(workspace, job)
    problems = rows.filter(outcome=ImportRow.Outcome.FAILED).order_by("number").only("number", "name", "error")
    return {
        "failures": Paginator(problems, FAILURES_PER_PAGE).get_page(page),
        "warned": rows.filter(has_warnings=True, error="").order_by("number")[:WARNED_SHOWN],
    }
