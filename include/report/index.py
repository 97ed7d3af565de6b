"""The readouts' index page: every experiment, its state, verdict, last day and link.

Each readout writes ``summary.json`` beside its pages (:func:`summary_of`: the experiment,
its day, verdict and the days that frame it). :func:`write_index` reads the summaries under
a reports folder and writes ``index.html`` there: one row per experiment, from its latest
readout (the newest ``ds``), linking that readout and listing its earlier days. The page is
rebuilt from the files after every readout, so it never disagrees with them; two readouts
finishing together each write a complete page (the later one wins, and both see both).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from include.report.bundle import ReadoutBundle

SUMMARY = "summary.json"
INDEX = "index.html"
# What a readout's day says about its verdict, from the experiment's decision and final days.
RUNNING, DECIDED, CONCLUDED = "running", "decided", "concluded"
VERDICT_LABELS = {
    "ship": "Ship", "do_not_ship": "Do not ship", "keep_running": "Keep running",
    "invalid": "Invalid", "blocked": "Blocked",
}  # fmt: skip


def state_of(ds: str, decision_day: str | None, final_day: str | None) -> str:
    """``running`` before the decision day (the verdict can still change), ``decided`` from
    it (the decision metrics are final), ``concluded`` from the final day (nothing changes)."""
    if final_day and ds >= final_day:
        return CONCLUDED
    if decision_day and ds >= decision_day:
        return DECIDED
    return RUNNING


def summary_of(bundle: ReadoutBundle) -> dict[str, Any]:
    """What the index shows of one readout (no clock: the same bundle, the same bytes)."""
    verdict = bundle.verdict
    return {
        "experiment": bundle.experiment,
        "ds": bundle.ds,
        "verdict": verdict.verdict,
        "variant": verdict.variant,
        "reason": next((r for r in verdict.reasons if not r.startswith(("trust checks:",
                                                                        "warning:"))), None),
        "trust": bundle.trust.status,
        "start_date": bundle.start_date,
        "end_date": bundle.end_date,
        "decision_day": bundle.decision_day,
        "final_day": bundle.final_day,
        "state": state_of(bundle.ds, bundle.decision_day, bundle.final_day),
    }  # fmt: skip


def summaries(out_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """{experiment: its readouts' summaries, newest day first}; unreadable files skipped."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(out_dir.glob(f"*/*/{SUMMARY}")):
        try:
            s = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a half-written file cannot exist (atomic writes); a foreign one can
        if not isinstance(s, dict) or not {"experiment", "ds", "verdict"} <= s.keys():
            continue
        s["href"] = f"{path.parent.parent.name}/{path.parent.name}/readout.html"
        found.setdefault(str(s["experiment"]), []).append(s)
    return {k: sorted(v, key=lambda s: s["ds"], reverse=True) for k, v in sorted(found.items())}


def render_index(summaries: dict[str, list[dict[str, Any]]]) -> str:
    """The index page (autoescaped: names and reasons are never markup)."""
    from include.report.render import _css, _env

    rows = []
    for name, days in summaries.items():
        latest = days[0]
        rows.append({
            **latest,
            "name": name,
            "verdict_label": VERDICT_LABELS.get(latest["verdict"], latest["verdict"]),
            "earlier": [{"ds": d["ds"], "href": d["href"], "verdict": d["verdict"]}
                        for d in days[1:]],
        })  # fmt: skip
    return _env(True).get_template("index.html.j2").render(css=_css(), rows=rows)


def write_index(out_dir: str | os.PathLike[str]) -> Path:
    """Rebuild ``{out_dir}/index.html`` from the summaries under it."""
    from include.report.writer import atomic_write

    folder = Path(out_dir)
    return atomic_write(folder / INDEX, render_index(summaries(folder)))
