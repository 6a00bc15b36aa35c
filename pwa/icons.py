"""The app's icons, drawn with Pillow: a white speech bubble with three dots on the accent colour.

Drawn, not typeset, so they come out the same on every machine (no font needed). The PNGs are
committed under static/img/icons/; ``manage.py pwa_icons`` draws them again after a change here.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ACCENT = (79, 70, 229, 255)  # --rp-accent in static/css/tokens.css
WHITE = (255, 255, 255, 255)
SUPERSAMPLE = 4  # drawn large and scaled down: smooth edges without antialiasing support


def _bubble(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """The mark, ``scale`` of the canvas wide, centred."""
    width = size * scale
    height = width * 0.72
    left, top = (size - width) / 2, (size - height) / 2 - size * 0.03
    right, bottom = left + width, top + height
    draw.rounded_rectangle((left, top, right, bottom), radius=height * 0.32, fill=WHITE)
    tail_x = left + width * 0.28
    draw.polygon(
        [(tail_x, bottom - 1), (tail_x + width * 0.2, bottom - 1), (tail_x - width * 0.04, bottom + height * 0.28)],
        fill=WHITE,
    )
    radius = height * 0.1
    for i in (-1, 0, 1):
        cx, cy = size / 2 + i * width * 0.24, (top + bottom) / 2
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=ACCENT)


def draw_icon(size: int, *, maskable: bool = False, rounded: bool = True) -> Image.Image:
    """One icon. A maskable one fills its square and keeps the mark inside the central safe circle."""
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable or not rounded:
        draw.rectangle((0, 0, big, big), fill=ACCENT)
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=ACCENT)
    _bubble(draw, big, 0.46 if maskable else 0.62)
    return image.resize((size, size), Image.Resampling.LANCZOS)


ICONS = {
    "icon-192.png": {"size": 192},
    "icon-512.png": {"size": 512},
    "maskable-512.png": {"size": 512, "maskable": True},
    # iOS rounds the corners itself and shows transparency as black: a full square.
    "apple-touch-icon.png": {"size": 180, "rounded": False},
}


def write_icons(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, options in ICONS.items():
        path = folder / name
        image = draw_icon(**options)  # type: ignore[arg-type]
        if name == "apple-touch-icon.png":
            image = image.convert("RGB")
        image.save(path, optimize=True)
        written.append(path)
    return written
