"""Write a readout's files to ``{out_dir}/{experiment}/{ds}/`` atomically.

Each file is written to a temporary file in the same directory and renamed over the
target (``os.replace`` is atomic on POSIX), so a reader never sees half a report and a
re-run for the same ``ds`` replaces the previous files: the write is idempotent.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from include.report.bundle import ReadoutBundle
from include.report.index import SUMMARY, summary_of, write_index
from include.report.render import render_deep_dive_html, render_html, render_markdown

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(value: str) -> str:
    """A path component from a free-text name (no separators, no ``..``)."""
    cleaned = _UNSAFE.sub("_", str(value)).strip("._")
    return cleaned or "unnamed"


def atomic_write(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_report(bundle: ReadoutBundle, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Render and write ``readout.html``, ``readout.md`` (and ``deep_dive.html`` when the
    bundle carries deep-dive details) and ``summary.json``, then rebuild
    ``{out_dir}/index.html`` (``include.report.index``); returns ``{"html": ...,
    "markdown": ..., "summary": ..., "index": ...}``.

    Everything is rendered before anything is written, so a rendering error leaves the
    previous report untouched.
    """
    target = Path(out_dir) / safe_name(bundle.experiment) / safe_name(bundle.ds)
    rendered = {
        "html": ("readout.html", render_html(bundle)),
        "markdown": ("readout.md", render_markdown(bundle)),
    }
    if bundle.deep_dive is not None:
        rendered["deep_dive"] = ("deep_dive.html", render_deep_dive_html(bundle.deep_dive))
    summary = json.dumps(summary_of(bundle), indent=1, sort_keys=True) + "\n"
    rendered["summary"] = (SUMMARY, summary)
    paths = {key: atomic_write(target / name, text) for key, (name, text) in rendered.items()}
    # the index of every experiment in this folder, rebuilt from the summaries
    paths["index"] = write_index(out_dir)
    return paths
