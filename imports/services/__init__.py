"""Importing address books: upload, read (with duplicate detection), then write, in the background.

1. ``import_upload`` checks the file and stores it on a job (CSV files stop for the column mapping).
2. ``import_read`` (a task) reads every card or row into ``ImportRow``s, each with the existing
   person it may duplicate and a default action (merge when it matches, else create).
3. The user looks at the preview and may change actions; ``import_start`` queues the run.
4. ``import_run`` (a task) writes rows in batches, each batch in one transaction, and counts.

Every step is safe to repeat: reading starts over from nothing, and running only touches rows
still pending, so a worker killed half-way resumes without doing any row twice. Reading and
running claim the job first (a conditional UPDATE of ``claimed_at``), so two messages for one
job never work on it at once; a claim that stops moving is taken over by the sweeper. Merging adds
only what the person does not have yet, so importing the same file again creates nobody.

Where each part lives: ``upload`` (the file and the column mapping), ``matching`` (who a
contact may already be), ``reading`` (file to rows), ``jobs`` (claims, takeovers, the go-ahead,
cancel and expiry), ``running`` (rows to people, in batches) and ``writing`` (creating and
merging people). Callers use the names below.
"""

from __future__ import annotations

from imports.services.jobs import import_cancel, import_expire_uploads, import_start, import_takeover
from imports.services.matching import Index, name_key
from imports.services.reading import import_read
from imports.services.running import import_run
from imports.services.upload import ImportFileError, import_set_mapping, import_upload
from imports.services.writing import create_people, merge_contact

__all__ = [
    "ImportFileError",
    "Index",
    "create_people",
    "import_cancel",
    "import_expire_uploads",
    "import_read",
    "import_run",
    "import_set_mapping",
    "import_start",
    "import_takeover",
    "import_upload",
    "merge_contact",
    "name_key",
]
