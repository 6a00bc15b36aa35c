"""The import benchmark of ``make bench``: 10,000 generated cards, read and written as the worker does."""

from __future__ import annotations

import random
import resource
import time
from typing import Any

from crm.models import User, Workspace
from imports import services
from imports.models import ImportJob


def sample_vcards(count: int, *, seed: int = 7) -> bytes:
    """Cards as Google and Apple write them: grouped labels, QP-free 3.0, photos left out."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    firsts = ["Anna", "Ben", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "José", "Kai", "Lena"]
    lasts = ["Smith", "Müller", "Rossi", "Tanaka", "García", "Nowak", "O'Brien", "Dubois", "Kim", "Silva"]
    tags = ["golf", "vip", "supplier", "friend", "wine", "football"]
    out = []
    for i in range(count):
        first, last = rng.choice(firsts), f"{rng.choice(lasts)}{i}"
        out.append(
            "BEGIN:VCARD\r\nVERSION:3.0\r\n"
            f"N:{last};{first};;;\r\nFN:{first} {last}\r\n"
            f"ORG:Company {i % 700}\r\nTITLE:Buyer\r\n"
            f"item1.EMAIL;TYPE=INTERNET:{first.lower()}.{i}@example.com\r\nitem1.X-ABLabel:_$!<Work>!$_\r\n"
            f"TEL;TYPE=CELL:+1 202 555 {i % 10000:04d}\r\n"
            f"ADR;TYPE=HOME:;;{i} Main St;Springfield;IL;62701;USA\r\n"
            f"BDAY:--{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}\r\n"
            f"CATEGORIES:{rng.choice(tags)},{rng.choice(tags)}\r\n"
            f"item2.X-ABRELATEDNAMES:Partner of {first}\r\nitem2.X-ABLabel:_$!<Spouse>!$_\r\n"
            f"NOTE:Met at the {2000 + i % 25} trade fair\\, stand {i}.\r\n"
            "END:VCARD\r\n"
        )
    return "".join(out).encode()


def bench_import(*, workspace: Workspace, user: User, count: int = 10_000) -> dict[str, Any]:
    """Read and write ``count`` cards into ``workspace``; wall time and peak memory."""
    data = sample_vcards(count)
    start = time.perf_counter()
    job = services.import_upload(workspace=workspace, user=user, file_name="bench.vcf", data=data, background=False)
    services.import_read(job_id=job.pk)
    read_s = time.perf_counter() - start
    services.import_start(job=job, default_action="merge", actions={}, background=False)
    services.import_run(job_id=job.pk)
    total_s = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    job.refresh_from_db()
    if job.status != ImportJob.Status.DONE or job.created != count:
        raise RuntimeError(f"import benchmark ended {job.status} with {job.created} created: {job.error}")
    return {
        "cards": count,
        "file_mb": round(len(data) / 1e6, 1),
        "read_s": round(read_s, 1),
        "total_s": round(total_s, 1),
        # The process's high-water mark (includes Django itself): bounded, not growing with the file.
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }
