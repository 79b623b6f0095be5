"""Helpers of the browser tests: constants, a context that can reach only the app, sign-in,
screenshots."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragrec.config import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "data" / "sample"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("RAGREC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_KEY = "e2e-admin-key"
WIDGET_KEY = "e2e-widget-key"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Watch:
    """What a browser context saw: console errors, page errors, blocked requests."""

    base: str
    console_errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.console_errors.clear()
        self.external.clear()

    def assert_clean(self, where: str) -> None:
        assert not self.external, f"{where} requested outside the app: {self.external}"
        assert not self.console_errors, f"{where} console errors: {self.console_errors}"


def open_context(browser: Any, base: str, viewport: dict[str, int]) -> tuple[Any, Watch]:
    """A fresh context that can only reach the app (anything else is aborted)."""
    watch = Watch(base)
    context = browser.new_context(viewport=viewport, base_url=base)
    context.set_default_timeout(30_000)

    def route(r: Any) -> None:
        if r.request.url.startswith(base) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            watch.external.append(r.request.url)
            r.abort()

    context.route("**/*", route)

    def on_page(page: Any) -> None:
        page.on(
            "console",
            lambda msg: (
                watch.console_errors.append(f"{page.url}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: watch.console_errors.append(f"{page.url}: {exc}"))

    context.on("page", on_page)
    return context, watch


def sign_in(page: Any, key: str = ADMIN_KEY) -> None:
    page.goto("/login?next=/")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def shot(page: Any, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
