"""Screenshot an HTML page (a readout, a deep dive, Data Docs) in headless Chromium, or a
page of this checkout's Airflow UI, logged in.

    python scripts/screenshot.py var/reports/.../readout.html readout.png [--width 1280]
    python scripts/screenshot.py --airflow /dags/lakehouse_daily grid.png

Uses Debian's Chromium (``scripts/setup.sh`` installs it: the browser test needs it too).
A file's full height is measured first with a ``--dump-dom`` pass of a tiny script, so the
picture holds the whole page, not a window. An Airflow page is opened with Playwright: it
logs in as admin (the password from ``var/airflow/passwords.json``) and waits for the page
to settle.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--force-device-scale-factor=1"]


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no Chromium found: apt-get install chromium")


def page_height(exe: str, url: str, width: int) -> int:
    """The rendered page's scrollHeight at ``width`` (Chromium's --dump-dom after load)."""
    probe = (
        "<script>window.addEventListener('load',()=>{setTimeout(()=>{"
        "document.title='H'+document.documentElement.scrollHeight},300)})</script>"
    )
    # measure the page itself: load it in an iframe-free way by appending the probe
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(url.removeprefix("file://"))
        copy = src.with_name(f".{src.stem}.measure.html")
        try:
            copy.write_text(src.read_text(encoding="utf-8") + probe, encoding="utf-8")
            out = subprocess.run(
                [exe, *FLAGS, f"--window-size={width},1000", "--virtual-time-budget=5000",
                 f"--user-data-dir={tmp}", "--dump-dom", copy.as_uri()],
                capture_output=True, text=True, timeout=120, check=True,
            ).stdout
        finally:
            copy.unlink(missing_ok=True)
    start = out.find("<title>H")
    if start < 0:
        return 3000
    return int(out[start + 8 : out.index("</title>", start)])


def airflow_page(path: str, out: Path, width: int, height: int) -> None:
    """Log in to this checkout's Airflow UI and screenshot ``path`` (e.g. a DAG's grid)."""
    import json
    import os

    from playwright.sync_api import sync_playwright

    port = os.environ.get("LAKEHOUSE_AIRFLOW_PORT", "8080")
    passwords = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "")
    password = json.loads(Path(passwords).read_text())["admin"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser(), headless=True, args=["--no-sandbox"])
        try:
            page = b.new_page(viewport={"width": width, "height": height})
            page.goto(f"http://127.0.0.1:{port}{path}")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(3000)
            page.screenshot(path=str(out))
        finally:
            b.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="an HTML file, or with --airflow a path of the UI")
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, help="fixed height (default: the whole page)")
    parser.add_argument("--airflow", action="store_true",
                        help="PAGE is a path of this checkout's Airflow UI (logs in first)")
    args = parser.parse_args(argv)
    if args.airflow:
        if not args.page.startswith("/"):
            sys.exit("with --airflow, PAGE is a path of the UI, e.g. /dags/lakehouse_daily")
        airflow_page(args.page, args.out, args.width, args.height or 900)
        print(f"{args.out} ({args.width}x{args.height or 900})")
        return 0
    args.page = Path(args.page)
    if not args.page.is_file():
        sys.exit(f"no such page: {args.page}")
    exe = browser()
    url = args.page.resolve().as_uri()
    height = args.height or min(page_height(exe, url, args.width), 16000)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [exe, *FLAGS, f"--window-size={args.width},{height}", "--virtual-time-budget=5000",
             f"--user-data-dir={tmp}", f"--screenshot={args.out.resolve()}", url],
            capture_output=True, timeout=120, check=True,
        )
    print(f"{args.out} ({args.width}x{height})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
