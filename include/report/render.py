"""Render a :class:`ReadoutBundle` to one self-contained HTML page, or to Markdown.

The page is built in two steps: :func:`readout_context` turns the bundle into plain,
already-formatted values (testable without HTML), then a Jinja2 template with autoescape
lays them out. Charts are inline SVG from :mod:`include.report.charts`; CSS is inlined from
``templates/report.css``; nothing is fetched at view time, so the file opens offline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from include.report import charts
from include.report.bundle import OVERALL, DeepDiveDetails, ReadoutBundle, config_hash
from include.report.formatting import (
    MISSING,
    fmt_abs_lift,
    fmt_int,
    fmt_interval,
    fmt_mean,
    fmt_money,
    fmt_money_compact,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_prob,
    fmt_ratio,
    humanize,
    is_num,
)
from include.stats.trust import FAIL, PASS, WARN

TEMPLATES = Path(__file__).parent / "templates"

VERDICTS: dict[str, dict[str, str]] = {
    "ship": {
        "label": "SHIP",
        "icon": "✓",
        "css": "ship",
        "summary": "{variant} beat control on the primary metric and no guardrail was harmed.",
    },
    "do_not_ship": {
        "label": "DO NOT SHIP",
        "icon": "✕",
        "css": "noship",
        "summary": "No variant earned a launch: see the reasons below.",
    },
    "keep_running": {
        "label": "KEEP RUNNING",
        "icon": "◷",
        "css": "running",
        "summary": "Not enough evidence yet: keep collecting data before deciding.",
    },
    "invalid": {
        "label": "INVALID",
        "icon": "!",
        "css": "invalid",
        "summary": "The data failed its trust checks or a metric's input is invalid. The "
        "lifts below must not be used for a decision until the cause is fixed.",
    },
    "monitor": {
        "label": "DAILY MONITOR",
        "icon": "◷",
        "css": "running",
        "summary": "A same-day early warning: no ship / no-ship decision here. The "
        "experiment readout decides, on experiment-to-date data.",
    },
    "blocked": {
        "label": "BLOCKED: INCOMPLETE DATA",
        "icon": "!",
        "css": "invalid",
        "summary": "Some days of the experiment are missing or were rejected at a quality "
        "gate (named below). No decision until they are loaded and pass.",
    },
}
STATUS_TEXT = {
    "ok": "ok",
    "insufficient_data": "insufficient data",
    "zero_variance": "zero variance",
    "missing_control": "missing control",
    "no_covariate_variance": "no covariate variance",
    "failed": "failed",
    "invalid_input": "invalid input",
}
ROLE_ORDER = {"primary": 0, "guardrail": 1, "secondary": 2}


TYPE_LABELS = {"conversion": "rate", "revenue": "mean", "ratio": "ratio"}


@cache
def _env(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]) if autoescape else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_cell
    return env


def _css() -> Markup:
    return Markup((TEMPLATES / "report.css").read_text())  # our own file, not user input


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------
def render_html(bundle: ReadoutBundle) -> str:
    """The experiment summary dashboard: one self-contained HTML page."""
    ctx = readout_context(bundle)
    return _env(True).get_template("readout.html.j2").render(css=_css(), **ctx)


def render_markdown(bundle: ReadoutBundle) -> str:
    """A short Markdown summary: verdict, reasons, one table of primary/guardrail metrics."""
    ctx = readout_context(bundle, with_charts=False)
    return _env(False).get_template("readout.md.j2").render(**ctx)


def render_deep_dive_html(details: DeepDiveDetails) -> str:
    """The deep-dive / diagnostics dashboard (retention, cohorts, segments)."""
    ctx = deep_dive_context(details)
    return _env(True).get_template("deep_dive.html.j2").render(css=_css(), **ctx)


# --------------------------------------------------------------------------------------
# readout context
# --------------------------------------------------------------------------------------
def readout_context(bundle: ReadoutBundle, with_charts: bool = True) -> dict[str, Any]:
    """Everything the templates show, formatted; charts only when ``with_charts``."""
    variants = bundle.all_variants()
    colours = charts.variant_colours(variants, bundle.control)
    overall = _sorted_rows([r for r in bundle.records if r.get("segment") == OVERALL])
    ctx: dict[str, Any] = {
        "experiment": bundle.experiment,
        "ds": bundle.ds,
        "hypothesis": bundle.hypothesis,
        "variants": variants,
        "control": bundle.control,
        "colours": colours,
        "window": _window(bundle),
        "final": _final(bundle),
        "verdict": _verdict(bundle),
        "empty_state": bundle.empty_state,
        "headline": [
            _headline(r, bundle) for r in overall if r.get("role") in ("primary", "guardrail")
        ],
        "trust": _trust(bundle),
        "key_rows": [
            _row_view(r, bundle) for r in overall if r.get("role") in ("primary", "guardrail")
        ],
        "metrics": _metric_tables(bundle),
        "funnel": _funnel_table(bundle, variants),
        "logistic": _logistic(bundle),
        "cuped": _cuped(bundle),
        "mrr": _mrr(bundle),
        "footer": {
            "versions": sorted(bundle.table_versions.items()),
            "config_hash": config_hash(bundle.config),
            "ds": bundle.ds,
            "generated_at": bundle.generated_at,
            "correction": _correction(bundle),
        },
        "charts": {"forest": None, "cumulative": None, "funnel": None},
        # written beside readout.html by write_report when the bundle has one
        "deep_dive_href": "deep_dive.html" if bundle.deep_dive is not None else None,
    }
    if with_charts:
        ctx["charts"] = _charts(bundle, overall, variants, colours)
    return ctx


def _window(bundle: ReadoutBundle) -> str:
    if bundle.start_date and bundle.end_date:
        return f"{bundle.start_date} → {bundle.end_date}"
    return bundle.start_date or bundle.end_date or ""


def _final(bundle: ReadoutBundle) -> str:
    """Whether this readout can still change: its day against the experiment's final day."""
    if not bundle.final_day:
        return ""
    if bundle.ds >= bundle.final_day:
        return f"{bundle.final_day}: this is the final readout"
    decided = bundle.decision_day
    if decided and decided < bundle.final_day:
        when = "the verdict is final" if bundle.ds >= decided else "the verdict is final from then"
        return (f"{bundle.final_day} (its follow-up tables change until then); decision day "
                f"{decided}: {when}")
    return f"{bundle.final_day} (its tables and this readout change until then)"


def _correction(bundle: ReadoutBundle) -> str:
    found = next((r.get("correction") for r in bundle.records if r.get("correction")), None)
    names = {"holm": "Holm", "bh": "Benjamini-Hochberg", "fdr_bh": "Benjamini-Hochberg"}
    return names.get(str(found), str(found or "none"))


def _verdict(bundle: ReadoutBundle) -> dict[str, Any]:
    spec = VERDICTS.get(bundle.verdict.verdict, VERDICTS["keep_running"])
    variant = bundle.verdict.variant
    notes = ("trust checks", "warning:", "data covers")
    trust_notes = [r for r in bundle.verdict.reasons if r.startswith(notes)]
    decision = [r for r in bundle.verdict.reasons if r not in trust_notes]
    if bundle.verdict.verdict == "invalid":
        decision = [r for r in bundle.verdict.reasons if r != "trust checks failed"]
        trust_notes = []
    return {
        "code": bundle.verdict.verdict,
        "label": spec["label"] + (f": {variant}" if variant else ""),
        "icon": spec["icon"],
        "css": spec["css"],
        "summary": spec["summary"].format(variant=variant or "The variant"),
        "reasons": [_sentence(r) for r in decision],
        "trust_notes": [_sentence(r) for r in trust_notes],
    }


_ADJ_P = re.compile(r"adjusted p=([0-9.]+(?:e[-+]?[0-9]+)?)")


def _sentence(reason: str) -> str:
    """A verdict reason as shown: names kept verbatim, p-values in report format."""
    return _ADJ_P.sub(lambda m: f"adjusted p {_p_phrase(float(m.group(1)))}", reason)


def _headline(row: Mapping[str, Any], bundle: ReadoutBundle) -> dict[str, Any]:
    view = _row_view(row, bundle)
    est = row.get("rel_lift")
    view["direction"] = _direction(row)
    view["big"] = fmt_pct(est, signed=True) if is_num(est) else view["abs_lift"]
    return view


def _direction(row: Mapping[str, Any]) -> str:
    """good / bad / flat for colouring: significant and in the metric's good direction."""
    lift = row.get("abs_lift")
    if not row.get("significant") or not is_num(lift) or float(lift) == 0:
        return "flat"
    good = (float(lift) > 0) == bool(row.get("higher_is_better", True))
    return "good" if good else "bad"


def _row_view(row: Mapping[str, Any], bundle: ReadoutBundle) -> dict[str, Any]:
    mtype = row.get("metric_type")
    unit = bundle.unit(str(row.get("metric")))
    status = str(row.get("status") or "ok")
    return {
        "metric": str(row.get("metric")),
        "label": bundle.label(str(row.get("metric"))),
        "role": str(row.get("role") or "secondary"),
        "type": mtype,
        "segment": str(row.get("segment")),
        "variant": str(row.get("variant")),
        "control_n": fmt_int(row.get("control_n")),
        "control_mean": fmt_mean(row.get("control_mean"), mtype, unit),
        "variant_n": fmt_int(row.get("variant_n")),
        "variant_mean": fmt_mean(row.get("variant_mean"), mtype, unit),
        "abs_lift": fmt_abs_lift(row.get("abs_lift"), mtype, unit=unit),
        "abs_ci": fmt_interval(
            row.get("abs_ci_low"), row.get("abs_ci_high"), fmt_abs_lift, metric_type=mtype,
            unit=unit,
        ),
        "rel_lift": fmt_pct(row.get("rel_lift"), signed=True),
        "rel_ci": fmt_interval(row.get("rel_ci_low"), row.get("rel_ci_high"), fmt_pct, signed=True),
        "p": fmt_p(row.get("p_value")),
        "p_adj": fmt_p(row.get("p_value_adjusted")),
        "prob": fmt_prob(row.get("prob_beat_control")),
        "loss": fmt_abs_lift(row.get("expected_loss"), mtype, signed=False, unit=unit),
        "mde": fmt_pct(row.get("mde_rel")),
        "power": fmt_pct(row.get("power"), digits=0),
        "significant": bool(row.get("significant")),
        "direction": _direction(row),
        "status": status,
        "status_text": STATUS_TEXT.get(status, status.replace("_", " ")),
    }


def _sorted_rows(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(
        rows,
        key=lambda r: (
            ROLE_ORDER.get(str(r.get("role")), 3),
            str(r.get("metric")),
            r.get("segment") != OVERALL,
            str(r.get("segment")),
            str(r.get("variant")),
        ),
    )


def _metric_tables(bundle: ReadoutBundle) -> list[dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {}
    for row in _sorted_rows(bundle.records):
        metric = str(row.get("metric"))
        table = tables.setdefault(
            metric,
            {
                "metric": metric,
                "label": bundle.label(metric),
                "role": str(row.get("role") or "secondary"),
                # what the reader knows the metric as: a rate, a mean or a ratio (the
                # statistics types are conversion, revenue and ratio; a count is a mean)
                "type": TYPE_LABELS.get(str(row.get("metric_type")), ""),
                "lower_is_better": row.get("higher_is_better") is False,
                # a capped mean says its cap; a ratio, that the delta method tested it
                "cap": _cap_text(row, bundle.unit(metric)),
                "window": _window_text(row),
                "rows": [],
            },
        )
        table["rows"].append(_row_view(row, bundle))
    return list(tables.values())


def _window_text(row: Mapping[str, Any]) -> str | None:
    """``7-day window, 412 units still inside it`` (the overall segment's first row); None
    for a metric without a window."""
    days = row.get("window_days")
    if not is_num(days):
        return None
    text = f"{int(days)}-day window"
    units = row.get("open_window_units")
    if is_num(units) and int(units) > 0:
        text += f", {fmt_int(units)} units still inside it (not counted yet)"
    return text


def _cap_text(row: Mapping[str, Any], unit: str | None = None) -> str | None:
    """``capped at $412.00 (percentile 0.99)``; None for an uncapped metric."""
    if not row.get("cap"):
        return None
    value = row.get("cap_value")
    if not is_num(value):
        shown = "no value yet (no units)"
    else:
        shown = fmt_num(value) if unit == "count" else fmt_money(value, cents=True)
    return f"capped at {shown} ({row['cap']})"


# --------------------------------------------------------------------------------------
# trust
# --------------------------------------------------------------------------------------
def _trust(bundle: ReadoutBundle) -> dict[str, Any]:
    checks = {c.name: c for c in bundle.trust.checks}
    srm = checks.get("sample_ratio_mismatch")
    split = _srm_split(bundle)
    rates = []
    for name in ("contamination_rate", "duplicate_rate"):
        check = checks.get(name)
        if check is not None:
            rates.append(
                {
                    "name": humanize(name),
                    "value": fmt_pct(check.value) if check.value is not None else "no units",
                    "limit": fmt_pct(check.threshold),
                    "status": check.status,
                    "reason": check.reason,
                }
            )
    gates = [
        {"name": c.name.split(":", 1)[1], "status": c.status, "reason": c.reason}
        for c in bundle.trust.checks
        if c.name.startswith("quality_gate:")
    ]
    return {
        "status": bundle.trust.status,
        "status_label": {
            PASS: "All checks passed",
            WARN: "Passed with warnings",
            FAIL: "Failed",
        }.get(bundle.trust.status, bundle.trust.status),
        "srm": {
            "status": srm.status if srm else None,
            "p": fmt_p(srm.value) if srm else MISSING,
            "reason": srm.reason if srm else "not checked",
            "split": split,
        },
        "rates": rates,
        "gates": gates,
        "gates_summary": _gate_counts(gates),
        "warnings": [c.reason for c in bundle.trust.checks if c.status != PASS],
    }


def _srm_split(bundle: ReadoutBundle) -> list[dict[str, Any]]:
    counts, weights = bundle.assignment_counts, bundle.weights
    if not counts:
        return []
    total = float(sum(counts.values()))
    w_total = float(sum(weights.values())) if weights else 0.0
    out = []
    for variant in bundle.all_variants():
        if variant not in counts and variant not in weights:
            continue
        observed = float(counts.get(variant, 0))
        share = observed / total if total else math.nan
        expected_share = float(weights.get(variant, math.nan)) / w_total if w_total else math.nan
        out.append(
            {
                "variant": variant,
                "observed": fmt_int(observed),
                "observed_share": fmt_pct(share, digits=2),
                "expected": fmt_int(expected_share * total) if is_num(expected_share) else MISSING,
                "expected_share": fmt_pct(expected_share, digits=2),
                "diff": fmt_pct(share - expected_share, signed=True, digits=2)
                if is_num(share) and is_num(expected_share)
                else MISSING,
            }
        )
    return out


def _gate_counts(gates: Sequence[Mapping[str, Any]]) -> str:
    if not gates:
        return "no quality gates reported"
    n_pass = sum(g["status"] == PASS for g in gates)
    extra = [
        f"{sum(g['status'] == s for g in gates)} {s}"
        for s in (WARN, FAIL)
        if any(g["status"] == s for g in gates)
    ]
    return f"{n_pass} of {len(gates)} passed" + (f" ({', '.join(extra)})" if extra else "")


# --------------------------------------------------------------------------------------
# funnel, regression, CUPED, MRR
# --------------------------------------------------------------------------------------
def _funnel_table(bundle: ReadoutBundle, variants: Sequence[str]) -> dict[str, Any]:
    stages = list(bundle.funnel)
    if not stages:
        return {"stages": [], "variants": [], "rows": []}
    shown = [v for v in variants if any(v in bundle.funnel[s] for s in stages)]
    rows = []
    for i, stage in enumerate(stages):
        cells = []
        for v in shown:
            count = bundle.funnel[stage].get(v)
            prev = bundle.funnel[stages[i - 1]].get(v) if i else None
            step = float(count) / float(prev) if is_num(count) and is_num(prev) and prev else None
            cells.append({"count": fmt_int(count), "step": fmt_pct(step) if i else ""})
        rows.append({"stage": stage, "cells": cells})
    return {"stages": stages, "variants": shown, "rows": rows}


def _logistic(bundle: ReadoutBundle) -> dict[str, Any] | None:
    res = bundle.logistic
    if res is None:
        return None
    coefs = [
        {
            "name": "intercept" if c.name == "const" else c.name,
            "coef": fmt_num(c.coef, 3, signed=True),
            "se": fmt_num(c.std_err, 3),
            "p": fmt_p(c.p_value),
            "odds": fmt_ratio(c.odds_ratio),
            "odds_ci": fmt_interval(c.or_ci_low, c.or_ci_high, fmt_ratio),
            "significant": is_num(c.p_value) and c.p_value < 0.05,
        }
        for c in res.coefficients
    ]
    return {
        "status": res.status,
        "status_text": STATUS_TEXT.get(res.status, res.status),
        "reason": res.reason,
        "n": fmt_int(res.n_obs),
        "pseudo_r2": fmt_num(res.pseudo_r2, 3),
        "coefficients": coefs,
        "interpretation": _logit_story(res),
    }


def _logit_story(res: Any) -> str:
    """One plain sentence on the treatment and engagement odds ratios, when fitted."""
    if res.status != "ok":
        return ""
    parts = []
    for c in res.coefficients:
        if c.name == "const":
            continue
        change = c.odds_ratio - 1
        sig = "significant" if c.p_value < 0.05 else "not significant"
        parts.append(
            f"{c.name.replace('_', ' ')}: odds ×{fmt_ratio(c.odds_ratio)} "
            f"({fmt_pct(change, signed=True)} per unit, {sig}, p {_p_phrase(c.p_value)})"
        )
    return "; ".join(parts)


def _p_phrase(p: float) -> str:
    text = fmt_p(p)
    return text if text.startswith("<") else f"= {text}"


def _cuped(bundle: ReadoutBundle) -> list[dict[str, Any]]:
    out = []
    for label, res in bundle.cuped.items():
        adj, raw = res.adjusted, res.unadjusted
        out.append(
            {
                "label": label,
                "status": str(res.status),
                "status_text": STATUS_TEXT.get(str(res.status), str(res.status)),
                "theta": fmt_num(res.theta, 3),
                "reduction": fmt_pct(res.variance_reduction),
                "raw_lift": fmt_money(raw.abs_lift, signed=True, cents=True),
                "raw_ci": fmt_interval(
                    raw.abs_ci_low, raw.abs_ci_high, fmt_money, signed=True, cents=True
                ),
                "raw_p": fmt_p(raw.p_value),
                "adj_lift": fmt_money(adj.abs_lift, signed=True, cents=True),
                "adj_ci": fmt_interval(
                    adj.abs_ci_low, adj.abs_ci_high, fmt_money, signed=True, cents=True
                ),
                "adj_p": fmt_p(adj.p_value),
            }
        )
    return out


def _mrr(bundle: ReadoutBundle) -> list[dict[str, Any]]:
    out = []
    for variant, m in bundle.mrr.items():

        def iv(x: Any) -> dict[str, str]:
            return {
                "est": fmt_money(x.estimate, signed=True),
                "short": fmt_money_compact(x.estimate, signed=True),
                "ci": fmt_interval(x.low, x.high, fmt_money, signed=True),
            }

        out.append(
            {
                "variant": variant,
                "status": m.status,
                "status_text": STATUS_TEXT.get(m.status, m.status),
                "per_user": {
                    "est": fmt_money(m.per_user.estimate, signed=True, cents=True),
                    "ci": fmt_interval(
                        m.per_user.low, m.per_user.high, fmt_money, signed=True, cents=True
                    ),
                },
                "arm_monthly": iv(m.treatment_arm_monthly),
                "arm_annual": iv(m.treatment_arm_annual),
                "full_monthly": iv(m.full_traffic_monthly),
                "full_annual": iv(m.full_traffic_annual),
                "n_treatment": fmt_int(m.n_treatment_users),
                "n_total": fmt_int(m.n_total_users),
                "p": fmt_p(m.p_value),
                "significant": is_num(m.p_value) and m.p_value < m.alpha,
                "direction": _money_direction(m),
            }
        )
    return out


def _money_direction(m: Any) -> str:
    iv = m.per_user
    if not (is_num(iv.low) and is_num(iv.high)) or iv.low <= 0 <= iv.high:
        return "flat"
    return "good" if iv.estimate > 0 else "bad"


# --------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------
def _charts(
    bundle: ReadoutBundle,
    overall: Sequence[Mapping[str, Any]],
    variants: Sequence[str],
    colours: Mapping[str, str],
) -> dict[str, Markup | None]:
    salt = f"{bundle.experiment}/{bundle.ds}"
    out: dict[str, Markup | None] = {"forest": None, "cumulative": None, "funnel": None}
    if overall:
        out["forest"] = Markup(charts.forest_plot(overall, bundle.metric_labels, salt + "/forest"))
    # a metric with no estimate on any day yet (e.g. no outcome window has closed) has
    # nothing to draw: the section is left out rather than shown as empty axes
    cumulative = {
        m: by_v for m, by_v in bundle.cumulative.items()
        if any(r.get("rel_lift") is not None or r.get("abs_lift") is not None
               for rows in by_v.values() for r in rows)
    }
    if cumulative:
        out["cumulative"] = Markup(
            charts.cumulative_plot(cumulative, bundle.metric_labels, colours, salt + "/cum")
        )
    if bundle.funnel:
        shown = [v for v in variants if any(v in c for c in bundle.funnel.values())]
        out["funnel"] = Markup(
            charts.funnel_plot(bundle.funnel, shown, colours, bundle.control, salt + "/funnel")
        )
    return out


# --------------------------------------------------------------------------------------
# deep dive
# --------------------------------------------------------------------------------------
def deep_dive_context(details: DeepDiveDetails) -> dict[str, Any]:
    """Formatted values and charts for the deep-dive template."""
    salt = f"{details.experiment}/{details.ds}/deep"
    variants = _deep_variants(details)
    colours = charts.variant_colours(variants, details.control)
    ctx: dict[str, Any] = {
        "experiment": details.experiment,
        "ds": details.ds,
        "control": details.control,
        "variants": variants,
        "colours": colours,
        "notes": list(details.notes),
        "retention": None,
        "cohorts": [],
        "segments": None,
    }
    ret = details.retention
    if ret is not None and len(ret):
        ctx["retention"] = {
            "chart": Markup(charts.retention_plot(ret, details.control, colours, salt + "/ret")),
            "table": _retention_table(ret, variants),
        }
    coh = details.cohorts
    if coh is not None and len(coh):
        groups = coh.groupby("variant", sort=False) if "variant" in coh else [("all users", coh)]
        for variant, part in groups:
            title = f"{variant}: retention by cohort"
            ctx["cohorts"].append(
                {
                    "variant": str(variant),
                    "chart": Markup(charts.cohort_heatmap(part, title, f"{salt}/coh/{variant}")),
                }
            )
    seg = details.segments
    if seg is not None and len(seg):
        frame = _segment_frame(details, colours)
        ctx["segments"] = {
            "chart": Markup(charts.segment_plot(frame, salt + "/seg")),
            "rows": _segment_rows(frame, details),
            "metric": details.metric_label,
        }
    return ctx


def _deep_variants(details: DeepDiveDetails) -> list[str]:
    names: list[str] = []
    for frame in (details.retention, details.cohorts, details.segments):
        if frame is not None and "variant" in frame:
            names += [str(v) for v in frame["variant"].tolist()]
    names = list(dict.fromkeys(names))
    return [details.control] + [v for v in names if v != details.control]


def _retention_table(frame: Any, variants: Sequence[str]) -> dict[str, Any]:
    periods = list(dict.fromkeys(frame["period"].tolist()))
    rows = []
    for v in variants:
        part = frame[frame["variant"] == v]
        if part.empty:
            continue
        by_period = dict(zip(part["period"], part["rate"], strict=True))
        rows.append({"variant": v, "cells": [fmt_pct(by_period.get(p)) for p in periods]})
    return {"periods": [charts._period_label(p) for p in periods], "rows": rows}


def _segment_frame(details: DeepDiveDetails, colours: Mapping[str, str]) -> Any:
    """Treatment rows with lift vs control (computed from the means when not given)."""
    seg = details.segments.copy()
    control = seg[seg["variant"] == details.control][["dimension", "segment", "n", "mean"]]
    control = control.rename(columns={"n": "control_n", "mean": "control_mean"})
    treat = seg[seg["variant"] != details.control].merge(
        control, on=["dimension", "segment"], how="left"
    )
    if "rel_lift" not in treat:
        treat["rel_lift"] = [
            (m / c - 1) if is_num(m) and is_num(c) and c != 0 and n and cn else math.nan
            for m, c, n, cn in zip(
                treat["mean"], treat["control_mean"], treat["n"], treat["control_n"], strict=True
            )
        ]
    multi = treat["variant"].nunique() > 1
    treat["label"] = [
        f"{s}  ·  {v}" if multi else str(s)
        for s, v in zip(treat["segment"], treat["variant"], strict=True)
    ]
    treat["colour"] = [colours.get(str(v), charts.BLUE) for v in treat["variant"]]
    return treat.reset_index(drop=True)


def _segment_rows(frame: Any, details: DeepDiveDetails) -> list[dict[str, Any]]:
    mtype = details.metric_type
    rows = []
    for _, r in frame.iterrows():
        has_ci = "rel_ci_low" in frame and is_num(r.get("rel_ci_low"))
        rows.append(
            {
                "dimension": humanize(r["dimension"]),
                "segment": str(r["segment"]),
                "variant": str(r["variant"]),
                "control_n": fmt_int(r.get("control_n")),
                "control_mean": fmt_mean(r.get("control_mean"), mtype),
                "n": fmt_int(r.get("n")),
                "mean": fmt_mean(r.get("mean"), mtype),
                "rel_lift": fmt_pct(r.get("rel_lift"), signed=True)
                if is_num(r.get("rel_lift"))
                else "insufficient data",
                "rel_ci": fmt_interval(
                    r.get("rel_ci_low"), r.get("rel_ci_high"), fmt_pct, signed=True
                )
                if has_ci
                else MISSING,
                "direction": _seg_direction(r, has_ci),
            }
        )
    return rows


def _seg_direction(r: Any, has_ci: bool) -> str:
    if not has_ci:
        return "flat"
    lo, hi = float(r["rel_ci_low"]), float(r["rel_ci_high"])
    return "good" if lo > 0 else ("bad" if hi < 0 else "flat")


def _md_cell(value: Any) -> str:
    """Markdown text: HTML-escaped (Markdown renders raw HTML), pipes escaped, one line."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ")
