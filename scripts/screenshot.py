"""Screenshot an HTML page (a readout, a deep dive, Data Docs) in headless Chromium.

    python scripts/screenshot.py var/reports/.../readout.html readout.png [--width 1280]

Uses Debian's Chromium (``apt-get install chromium``; not needed by the pipeline or the
tests, so setup does not install it). The page's full height is measured first with a
``--dump-dom`` pass of a tiny script, so the picture holds the whole page, not a window.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, help="fixed height (default: the whole page)")
    args = parser.parse_args(argv)
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
