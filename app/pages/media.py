"""Product pictures for the pages and the widget: shrunk once to a few widths and kept
on disk under `<RAGREC_HOME>/cache/thumbs/`, so a grid never ships full-size photos."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ragrec.config import Settings

WIDTHS = (80, 160, 320, 640, 1024)


def snap_width(width: int) -> int:
    """The smallest prepared width at least `width` (the largest when none is)."""
    return next((w for w in WIDTHS if w >= width), WIDTHS[-1])


def thumbnail(source: Path, width: int, settings: Settings) -> Path:
    """A JPEG of `source` at most `width` pixels wide (made on first request)."""
    stat = source.stat()
    digest = hashlib.sha256(f"{source.resolve()}|{stat.st_mtime_ns}|{stat.st_size}".encode())
    target = settings.home / "cache" / "thumbs" / f"{digest.hexdigest()[:24]}-{width}.jpg"
    if target.is_file():
        return target
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as img:
        img.thumbnail((width, width * 4))
        rgb = img.convert("RGB")
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            rgb.save(out, format="JPEG", quality=82, optimize=True)
        os.replace(tmp, target)  # atomic: concurrent requests never see half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def placeholder_svg(caption: str) -> bytes:
    """A neutral 3:4 picture for a product without one (keeps grids and carousels even)."""
    from html import escape

    text = escape(caption[:28] or "no picture")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="320" viewBox="0 0 240 320">'
        '<rect width="240" height="320" fill="#eef1f4"/>'
        '<path d="M90 120h60l10 20v70H80v-70z" fill="none" stroke="#9aa5b1" stroke-width="4"/>'
        f'<text x="120" y="250" font-family="sans-serif" font-size="14" fill="#5b6675" '
        f'text-anchor="middle">{text}</text></svg>'
    ).encode()
