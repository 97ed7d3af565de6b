"""Readout report renderer: pure Python (Jinja2 + matplotlib), no Spark, no network.

* :class:`ReadoutBundle` -> :func:`render_html` (experiment summary dashboard, one
  self-contained HTML page with inline CSS and SVG charts) and :func:`render_markdown`
  (short summary).
* :class:`DeepDiveDetails` -> :func:`render_deep_dive_html` (retention, cohorts, segments).
* :func:`write_report` writes ``{experiment}/{ds}/readout.html``, ``readout.md`` and
  ``deep_dive.html`` atomically.

See ``include/report/README.md`` for the input schema.
"""

from include.report.bundle import DeepDiveDetails, ReadoutBundle, config_hash
from include.report.render import (
    deep_dive_context,
    readout_context,
    render_deep_dive_html,
    render_html,
    render_markdown,
)
from include.report.writer import atomic_write, write_report

__all__ = [
    "DeepDiveDetails",
    "ReadoutBundle",
    "atomic_write",
    "config_hash",
    "deep_dive_context",
    "readout_context",
    "render_deep_dive_html",
    "render_html",
    "render_markdown",
    "write_report",
]
