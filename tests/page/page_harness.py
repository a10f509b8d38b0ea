"""The browser of the page tests, shared by every test file here (one
session-wide Chromium: Playwright's sync API allows one at a time): headless
Debian Chromium driven by Playwright (the pip wheel's bundled driver; no
browser download). A missing Chromium fails the run when the test script
requires its tools (INFRAGUARD_REQUIRE_TOOLS=1)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "target" / "page-screenshots"
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        message = f"no Chromium at {CHROMIUM}; scripts/test.sh installs Debian's chromium"
        if os.environ.get("CI") or os.environ.get("INFRAGUARD_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with playwright_api.sync_playwright() as p:
        started = time.monotonic()
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"chromium {browser.version} launched in {time.monotonic() - started:.1f}s")
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    # A dialog would mean plan content ran as script.
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()
    assert not dialogs, f"script ran on the page: {dialogs}"
