"""Take the README's screenshots: the app on the demo run, Overview and Segments pages, into docs/.

Needs the demo run (``make demo``, or ``python -m corpora.generate --size demo --seed 0
--out corpora/demo`` and ``insight analyze`` as in the Makefile) and Debian's chromium
(``scripts/install_browser.sh``). Starts ``streamlit run app.py`` on a free local port,
opens each page in headless chromium, waits for its charts and saves a PNG (palette-
quantised so each stays small), then stops the server.

``python scripts/screenshots.py [--out docs]``
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PAGES = {"overview": ("Overview", "KPIs by segment, month and theme"), "segments": ("Segments", "Top 10 actions")}
"""File name -> (page, a heading below its charts that says the page has rendered)."""
TIMEOUT_S = 120


def _serve(port: int) -> subprocess.Popen:
    """The app on ``port``, in its own process group; returns once /_stcore/health answers ok."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return server
        except OSError:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit(f"streamlit did not start on port {port} within {TIMEOUT_S} s")


def _shrink(path: Path) -> None:
    """256-colour palette PNG: the app's flat colours survive, the file drops well under 300 KB."""
    from PIL import Image

    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256).save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--port", type=int, default=8599)
    args = parser.parse_args(argv)
    if not (REPO / "corpora" / "demo" / "out" / "run" / "run.json").is_file():
        raise SystemExit("No demo run in corpora/demo/out/run: run `make demo` first.")
    from playwright.sync_api import sync_playwright

    server = _serve(args.port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for name, (title, ready) in PAGES.items():
                page = browser.new_page(viewport={"width": 1400, "height": 1700})
                page.goto(f"http://127.0.0.1:{args.port}/{name}", wait_until="domcontentloaded")
                page.get_by_role("heading", name=ready).first.wait_for(timeout=TIMEOUT_S * 1000)
                page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=TIMEOUT_S * 1000)
                time.sleep(2)  # let the remaining charts draw
                path = args.out / f"{name}.png"
                page.screenshot(path=str(path))
                _shrink(path)
                print(f"{title}: {path} ({path.stat().st_size / 1024:.0f} KB)")
                page.close()
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
