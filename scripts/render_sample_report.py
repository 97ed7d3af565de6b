"""Render the sample readout (seeded synthetic numbers through include.stats) and screenshot it.

Usage::

    . scripts/env.sh
    python scripts/render_sample_report.py [--out var/reports_sample] [--no-screenshot]

Writes ``{out}/homepage_cta_test/2024-01-14/readout.html``, ``readout.md`` and
``deep_dive.html``, then (if a ``chromium`` binary is on PATH) full-page PNGs to
``var/screenshots/readout_sample.png`` and ``var/screenshots/deep_dive_sample.png``.
Chromium runs headless, offline and with a throw-away profile directory.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from include.report import write_report  # noqa: E402
from include.report.sample import sample_bundle  # noqa: E402

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def screenshot(html: Path, png: Path, height: int) -> bool:
    """Render ``html`` to ``png`` (1280 px wide) with headless Chromium; False if unavailable."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        print("chromium not found: skipping the screenshot", file=sys.stderr)
        return False
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size=1280,{height}",
            f"--screenshot={png}",
            html.resolve().as_uri(),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return png.exists()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reports_sample")
    parser.add_argument("--screenshots", type=Path, default=ROOT / "var" / "screenshots")
    parser.add_argument("--height", type=int, default=2400, help="screenshot height in px")
    parser.add_argument("--no-screenshot", action="store_true")
    args = parser.parse_args(argv)

    paths = write_report(sample_bundle(), args.out)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    if not args.no_screenshot:
        shots = {
            "html": args.screenshots / "readout_sample.png",
            "deep_dive": args.screenshots / "deep_dive_sample.png",
        }
        for kind, png in shots.items():
            if kind in paths and screenshot(paths[kind], png, args.height):
                print(f"screenshot: {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
