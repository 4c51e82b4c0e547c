"""Make ``docs/diff-page.png``, the diff page shown in the README and in docs/serve.md.

    python docs/screenshot.py [--chromium PATH]

Builds the small store of the web tests (``tests/webstore.py``) in a temporary folder, runs
``corpus serve`` on it (loopback, a free port), and photographs one diff page with Chromium
through Playwright, then stops the server.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from webstore import build_store, start_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium"), help="Chromium to use")
    parser.add_argument("--out", type=Path, default=HERE / "diff-page.png")
    args = parser.parse_args()
    if not args.chromium:
        raise SystemExit("no Chromium found: install Debian's chromium or pass --chromium PATH")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(build_store(Path(tmp) / "corpus.db"))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=args.chromium,
                    args=["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update",
                          "--disable-sync"],
                )  # fmt: skip
                page = browser.new_page(viewport={"width": 1100, "height": 760})
                page.goto(url + "doc/world/duma/diff?from=1&to=2")
                page.locator("body").press("n")
                page.locator("body").press("n")
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(args.out))
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
