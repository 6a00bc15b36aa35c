"""What the two fuzzers (test_fuzz.py for the pages, test_api_fuzz.py for the API) share: the
edge values they mix into every field, and how Hypothesis runs them."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

EDGE_VALUES = [
    "", " ", "0", "-1", "1.5", "1e309", "NaN", "99999999999999999999999", "2026-02-30", "0000-00-00", "9999-12-31",
    "true", "on", "null", "None", "[]", "{}", "../../etc/passwd", "%00", "\x00", "<script>alert(1)</script>",
    "' OR 1=1 --", "=cmd|' /C calc'!A0", "\u202e", "😀", "a" * 300,
    "x" * 25_000,  # longer than any field; rare, as a form echoing it back is slow to render
]  # fmt: skip


def fuzz_settings(examples: int) -> settings:
    """Derandomised (CI sees the same examples every run), no example database, no deadline: a
    page that renders a huge echo slowly is not a failure, a 500 is."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
