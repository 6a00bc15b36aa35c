"""The browser tests' own guard: without the browser they fail, they never skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import require_chromium


def test_it_fails_rather_than_skips_without_chromium(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium"):
        require_chromium(tmp_path / "chromium")
