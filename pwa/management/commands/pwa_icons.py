from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from pwa.icons import write_icons


class Command(BaseCommand):
    help = "Draw the app's icons into static/img/icons/ (committed; run again after changing pwa/icons.py)."

    def handle(self, *args: Any, **options: Any) -> None:
        for path in write_icons(settings.BASE_DIR / "static" / "img" / "icons"):
            self.stdout.write(str(path.relative_to(settings.BASE_DIR)))
