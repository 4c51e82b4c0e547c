"""The corpus pages in a real browser: Chromium driven by Playwright, against ``corpus serve``.

Playwright's own browser download is not used: the test drives the system's Chromium
(``CORPUS_CHROMIUM``, else ``chromium`` on the PATH). Without one the test skips with the reason,
unless ``CORPUS_REQUIRE_BROWSER`` is set (CI sets it): then it fails. The screenshot of the diff
page is saved in ``CORPUS_TEST_ARTIFACTS`` (a folder) when set, else in the test's tmp folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from webstore import build_store, start_server

#: Launch arguments for a headless Chromium that may run as root and never calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CORPUS_REQUIRE_BROWSER"):
        pytest.fail(f"CORPUS_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


def chromium_path() -> str:
    found = os.environ.get("CORPUS_CHROMIUM") or shutil.which("chromium")
    if not found or not os.access(found, os.X_OK):
        _unavailable(
            "no Chromium found (install Debian's `chromium`, or set CORPUS_CHROMIUM to its path)"
        )
    return str(found)


@pytest.fixture
def browser() -> Iterator[object]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    proc, url = start_server(build_store(tmp_path / "news.db"))
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CORPUS_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _in_view(page, selector: str) -> bool:
    return page.evaluate(
        """sel => { const r = document.querySelector(sel).getBoundingClientRect();
                    return r.bottom > 0 && r.top < window.innerHeight; }""",
        selector,
    )


@pytest.mark.slow
def test_journey_search_document_diff_cosmetic_next_change_move(
    browser, server: str, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 700})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server) else external.append(r.url))

    # Search from the home page's search box.
    page.goto(server)
    assert page.locator("h1").inner_text() == "The corpus at a glance"
    page.fill("header input[name=q]", "parliament")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search?q=parliament")
    hit = page.locator("ol.hits li a.hit-title").first
    assert "The Duma votes again" in hit.inner_text()
    assert page.locator("ol.hits mark").count() >= 1

    # Open the document, then the diff of its first change from the timeline.
    hit.click()
    page.wait_for_url("**/doc/world/duma")
    assert page.locator("article h1").inner_text() == "The Duma votes again"
    page.click("ol.timeline a[href*='from=1&to=2']")
    page.wait_for_url("**/doc/world/duma/diff?from=1&to=2")
    assert page.locator(".diff .cosmetic").count() > 0

    # Hide cosmetic changes.
    page.click("#toggle-cosmetic")
    page.wait_for_url("**cosmetic=hide")
    assert page.locator(".diff .cosmetic").count() == 0
    assert "show cosmetic changes" in page.locator("#toggle-cosmetic").inner_text()

    # `n` steps to the next change, `p` back.
    page.locator("body").press("n")
    assert page.locator(".diff .change.current").get_attribute("id") == "change-1"
    page.locator("body").press("n")
    page.locator("body").press("n")
    assert page.locator(".diff .change.current").get_attribute("id") == "change-3"
    assert _in_view(page, "#change-3")
    page.locator("body").press("p")
    assert page.locator(".diff .change.current").get_attribute("id") == "change-2"

    # Follow the move link to where the paragraph was, and back.
    page.click(".op-move a.move-link")
    assert page.evaluate("location.hash") == "#moved-from-0"
    assert _in_view(page, "#moved-from-0")
    page.click("#moved-from-0 a.move-link")
    assert page.evaluate("location.hash") == "#moved-to-0"

    shot = _artifacts(tmp_path) / "diff-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    assert not problems, problems  # no CSP violation, no script error
    assert not external, external  # everything comes from the server itself


def test_without_chromium_the_browser_tests_skip_unless_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CORPUS_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.delenv("CORPUS_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium found"):
        chromium_path()
    monkeypatch.setenv("CORPUS_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="CORPUS_REQUIRE_BROWSER"):
        chromium_path()
