"""Charts as inline SVG strings (matplotlib, Agg/SVG backend, no display, no files).

Design rules: Okabe-Ito colours (colour-blind safe), control always neutral grey, primary
metrics blue circles and guardrails vermillion diamonds in the forest plot, a visible zero
line wherever a lift is shown, direct labels instead of legends where they fit. Text stays
``<text>`` (``svg.fonttype = none``) so it is crisp, selectable and XML-escaped by
matplotlib; math-text parsing is off so a ``$`` in a metric name is literal. Element ids
are salted per chart, which keeps several SVGs on one page distinct and the output
byte-for-byte deterministic.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from include.report.formatting import fmt_abs_lift, fmt_pct, is_num  # noqa: E402

# Okabe-Ito
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
SKY, PURPLE, YELLOW, BLACK = "#56B4E9", "#CC79A7", "#F0E442", "#000000"
GREY, INK, MUTED, GRID = "#8C8C8C", "#1F2933", "#5F6B7A", "#E4E7EB"
VARIANT_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION)
ROLE_STYLE = {
    "primary": {"color": BLUE, "marker": "o", "label": "primary"},
    "guardrail": {"color": VERMILLION, "marker": "D", "label": "guardrail"},
    "secondary": {"color": MUTED, "marker": "s", "label": "secondary"},
}

_RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["Inter", "Segoe UI", "Helvetica Neue", "Arial", "DejaVu Sans"],
    "font.size": 10,
    "axes.edgecolor": "#C5CBD3",
    "axes.labelcolor": INK,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "legend.frameon": False,
    "figure.dpi": 100,
}


def variant_colours(variants: Sequence[str], control: str) -> dict[str, str]:
    """Control grey; the others Okabe-Ito in order."""
    others = [v for v in variants if v != control]
    colours = {v: VARIANT_COLOURS[i % len(VARIANT_COLOURS)] for i, v in enumerate(others)}
    colours[control] = GREY
    return colours


def to_svg(fig: Any, salt: str) -> str:
    """Serialise a figure to an inline ``<svg>`` element (no prolog, no metadata)."""
    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": salt}):
        fig.savefig(
            buf, format="svg", bbox_inches="tight", pad_inches=0.08, metadata={"Date": None}
        )
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    # responsive: keep the viewBox, let CSS size it
    svg = re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart"', svg, count=1
    )
    return _prefix_ids(svg, "c" + hashlib.sha1(salt.encode()).hexdigest()[:8])


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make every element id (and each reference to one) unique to this chart, so several
    SVGs can share one HTML document (matplotlib numbers its groups ``figure_1`` etc.)."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return re.sub(r'((?:xlink:)?href)="#([^"]+)"', rf'\1="#{prefix}-\2"', svg)


def _pct_axis(ax: Any, axis: str = "x") -> None:
    fmt = FuncFormatter(lambda v, _: fmt_pct(v, signed=True, digits=_axis_digits(ax, axis)))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _axis_digits(ax: Any, axis: str) -> int:
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    span = abs(hi - lo) * 100
    return 0 if span >= 8 else (1 if span >= 0.8 else 2)


def _lift_of(row: Mapping[str, Any]) -> tuple[float, float, float, bool]:
    """(estimate, low, high, relative?) with relative lift preferred."""
    if is_num(row.get("rel_lift")):
        lo, hi = row.get("rel_ci_low"), row.get("rel_ci_high")
        lo = float(lo) if is_num(lo) else math.nan
        hi = float(hi) if is_num(hi) else math.nan
        return float(row["rel_lift"]), lo, hi, True
    if is_num(row.get("abs_lift")):
        lo, hi = row.get("abs_ci_low"), row.get("abs_ci_high")
        lo = float(lo) if is_num(lo) else math.nan
        hi = float(hi) if is_num(hi) else math.nan
        return float(row["abs_lift"]), lo, hi, False
    return math.nan, math.nan, math.nan, True


def forest_plot(rows: Sequence[Mapping[str, Any]], labels: Mapping[str, str], salt: str) -> str:
    """Relative lift with its CI, one line per metric x variant (overall segment).

    Rows are drawn top to bottom in the order given; primary blue circles, guardrails
    vermillion diamonds, secondary grey squares; filled when significant after correction.
    Rows without a usable estimate say "insufficient data" on the zero line.
    """
    with plt.rc_context(_RC):
        n = max(len(rows), 1)
        fig, ax = plt.subplots(figsize=(9.6, 0.9 + 0.46 * n))
        finite: list[float] = []
        ylabels = []
        drawn: list[tuple[int, Mapping[str, Any], float, float, float, bool]] = []
        for i, row in enumerate(rows):
            y = n - 1 - i
            est, lo, hi, rel = _lift_of(row)
            style = ROLE_STYLE.get(str(row.get("role")), ROLE_STYLE["secondary"])
            metric = labels.get(str(row.get("metric")), str(row.get("metric")))
            ylabels.append((y, f"{metric}  ·  {row.get('variant')}"))
            if i % 2 == 0:
                ax.axhspan(y - 0.5, y + 0.5, color="#F5F7FA", zorder=0, lw=0)
            if not math.isfinite(est):
                ax.text(
                    0,
                    y,
                    "  insufficient data",
                    va="center",
                    ha="left",
                    color=MUTED,
                    fontsize=9,
                    style="italic",
                )
                continue
            if rel:
                finite += [v for v in (est, lo, hi) if math.isfinite(v)]
            if math.isfinite(lo) and math.isfinite(hi):
                ax.plot(
                    [lo, hi], [y, y], color=style["color"], lw=2.4, solid_capstyle="round", zorder=2
                )
            filled = bool(row.get("significant"))
            ax.plot(
                [est],
                [y],
                marker=style["marker"],
                ms=8.5,
                zorder=3,
                color=style["color"],
                markerfacecolor=style["color"] if filled else "white",
                mew=2,
            )
            drawn.append((y, row, est, lo, hi, rel))
        lim = max((abs(v) for v in finite), default=0.05) * 1.15 or 0.05
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-0.6, n - 0.4)
        ax.axvline(0, color=INK, lw=1, zorder=1)
        ax.set_yticks([y for y, _ in ylabels], [t for _, t in ylabels])
        ax.tick_params(axis="y", length=0, labelsize=10)
        ax.spines["left"].set_visible(False)
        ax.grid(axis="x", color=GRID, lw=0.8, zorder=0)
        ax.set_axisbelow(True)
        _pct_axis(ax)
        ax.set_xlabel("relative lift vs control (95% CI)", color=MUTED)
        # value labels in a right-hand column, outside the plotting area
        for y, row, est, lo, hi, rel in drawn:
            if rel:
                text = (
                    f"{fmt_pct(est, signed=True)}  [{fmt_pct(lo, signed=True)}, "
                    f"{fmt_pct(hi, signed=True)}]"
                )
            else:
                text = fmt_abs_lift(est, row.get("metric_type"))
            ax.annotate(
                text,
                xy=(1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(10, 0),
                textcoords="offset points",
                va="center",
                fontsize=9.5,
                color=INK,
                fontweight="bold" if row.get("significant") else "normal",
            )
        handles = [
            plt.Line2D([], [], color=s["color"], marker=s["marker"], lw=0, ms=7, label=s["label"])
            for role, s in ROLE_STYLE.items()
            if any(str(r.get("role")) == role for r in rows)
        ]
        handles.append(
            plt.Line2D(
                [],
                [],
                color=MUTED,
                marker="o",
                markerfacecolor="white",
                lw=0,
                ms=7,
                mew=1.6,
                label="hollow = not significant",
            )
        )
        ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncol=len(handles),
            fontsize=9,
            handletextpad=0.3,
            columnspacing=1.4,
        )
        return to_svg(fig, salt)


def cumulative_plot(
    series: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    labels: Mapping[str, str],
    colours: Mapping[str, str],
    salt: str,
) -> str:
    """Cumulative relative lift per day with its CI band; one panel per metric."""
    metrics = [m for m, by_variant in series.items() if by_variant]
    with plt.rc_context(_RC):
        cols = 2 if len(metrics) > 1 else 1
        rows_n = math.ceil(len(metrics) / cols)
        fig, axes = plt.subplots(rows_n, cols, figsize=(9.6, 2.9 * rows_n), squeeze=False)
        for ax in axes.flat[len(metrics) :]:
            ax.set_visible(False)
        for ax, metric in zip(axes.flat, metrics, strict=False):
            for variant, days in series[metric].items():
                xs = list(range(1, len(days) + 1))
                est = [_nan(d.get("rel_lift")) for d in days]
                lo = [_nan(d.get("rel_ci_low")) for d in days]
                hi = [_nan(d.get("rel_ci_high")) for d in days]
                colour = colours.get(variant, BLUE)
                ax.fill_between(xs, lo, hi, color=colour, alpha=0.16, lw=0)
                ax.plot(xs, est, color=colour, lw=2, label=variant)
                last = next((i for i in range(len(est) - 1, -1, -1) if math.isfinite(est[i])), None)
                if last is not None:
                    ax.plot([xs[last]], [est[last]], "o", color=colour, ms=4.5)
            ax.axhline(0, color=INK, lw=1)
            ax.set_title(labels.get(metric, metric))
            ax.grid(axis="y", color=GRID, lw=0.8)
            ax.set_axisbelow(True)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=7))
            ax.set_xlabel("day of experiment", color=MUTED)
            _pct_axis(ax, "y")
        handles, names = axes.flat[0].get_legend_handles_labels()
        fig.legend(
            handles,
            names,
            loc="upper right",
            ncol=len(names),
            fontsize=9,
            bbox_to_anchor=(1.0, 1.0),
        )
        fig.tight_layout(h_pad=1.6, w_pad=2.5, rect=(0, 0, 1, 0.93 if rows_n == 1 else 0.96))
        return to_svg(fig, salt)


def funnel_plot(
    funnel: Mapping[str, Mapping[str, float]],
    variants: Sequence[str],
    colours: Mapping[str, str],
    control: str,
    salt: str,
) -> str:
    """One panel per stage after the first: share of each variant's first-stage units that
    reached it (horizontal bars), labelled with the rate and its difference to control.

    The first stage is the denominator (100% by definition), so it gets no panel; each
    panel has its own scale so a 3% purchase rate is as readable as a 40% add-to-cart.
    """
    stages = list(funnel)
    later = stages[1:] or stages
    with plt.rc_context(_RC):
        k = max(len(variants), 1)
        fig, axes = plt.subplots(1, len(later), figsize=(9.6, 0.75 + 0.36 * k), squeeze=False)
        for ax, stage in zip(axes[0], later, strict=True):
            shares = {}
            for v in variants:
                base = _nan(funnel[stages[0]].get(v))
                count = _nan(funnel[stage].get(v))
                shares[v] = count / base if base > 0 else math.nan
            top = max((s for s in shares.values() if math.isfinite(s)), default=0.01) or 0.01
            for i, v in enumerate(variants):
                y = k - 1 - i
                share = shares[v]
                if not math.isfinite(share):
                    ax.text(0, y, " no data", va="center", color=MUTED, fontsize=8.5)
                    continue
                ax.barh(y, share, height=0.68, color=colours.get(v, BLUE), zorder=2)
                text = fmt_pct(share)
                ref = shares.get(control, math.nan)
                if v != control and math.isfinite(ref) and ref > 0:
                    text += f"  ({fmt_pct(share / ref - 1, signed=True)})"
                ax.text(share + top * 0.03, y, text, va="center", fontsize=8.5, color=INK)
            ax.set_xlim(0, top * 1.75)
            ax.set_ylim(-0.55, k - 0.45)
            ax.set_yticks(range(k), list(variants)[::-1])
            ax.set_xticks([])
            ax.tick_params(axis="y", length=0)
            for side in ("bottom", "left"):
                ax.spines[side].set_visible(False)
            ax.set_title(f"{stage}", fontsize=10)
        for ax in axes[0][1:]:
            ax.set_yticklabels([])
        fig.tight_layout(w_pad=1.0)
        return to_svg(fig, salt)


def retention_plot(frame: Any, control: str, colours: Mapping[str, str], salt: str) -> str:
    """Retention rate by period, one line per variant (control dashed), end labels spread
    apart so they never overlap; the y axis starts near the lowest rate, not at zero."""
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(9.6, 3.3))
        periods = list(dict.fromkeys(frame["period"].tolist()))
        pos = {p: i for i, p in enumerate(periods)}
        rates = frame["rate"].astype(float)
        low = max(0.0, float(rates.min()) - 0.08)
        high = min(1.0, float(rates.max()) + 0.03)
        ends = []
        for variant, part in frame.groupby("variant", sort=False):
            xs = [pos[p] for p in part["period"]]
            ys = part["rate"].astype(float).tolist()
            colour = colours.get(str(variant), BLUE)
            ax.plot(
                xs,
                ys,
                marker="o",
                ms=4.5,
                lw=2.2,
                color=colour,
                label=str(variant),
                ls=(0, (4, 2)) if variant == control else "-",
            )
            if ys:
                ends.append([ys[-1], ys[-1], xs[-1], colour])
        gap = (high - low) * 0.075
        ends.sort(key=lambda e: e[0])
        for i in range(1, len(ends)):  # push labels up until they are gap apart
            ends[i][1] = max(ends[i][1], ends[i - 1][1] + gap)
        for y, label_y, x, colour in ends:
            ax.annotate(
                fmt_pct(y),
                xy=(x, y),
                xytext=(x + 0.12, label_y),
                va="center",
                fontsize=8.5,
                color=colour,
                fontweight="bold",
            )
        ax.set_xticks(range(len(periods)), [_period_label(p) for p in periods])
        ax.set_xlim(-0.2, len(periods) - 0.4)
        ax.set_ylim(low, high)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_pct(v, digits=0)))
        ax.set_ylabel("retained", color=MUTED)
        ax.grid(axis="y", color=GRID, lw=0.8)
        ax.legend(loc="lower left", ncol=4, fontsize=9)
        return to_svg(fig, salt)


def cohort_heatmap(frame: Any, title: str, salt: str) -> str:
    """Cohort x period retention heatmap (sequential blues, values written in the cells)."""
    table = frame.pivot_table(
        index="cohort", columns="period", values="rate", aggfunc="mean", sort=False
    )
    with plt.rc_context(_RC):
        h = 0.9 + 0.36 * len(table.index)
        fig, ax = plt.subplots(figsize=(min(9.6, 1.6 + 0.85 * len(table.columns)), h))
        data = table.to_numpy(dtype=float)
        cmap = plt.get_cmap("Blues").with_extremes(bad="#FFFFFF")
        ax.imshow(data, cmap=cmap, vmin=0, vmax=1, aspect="auto")
        for (i, j), v in _cells(data):
            ax.text(
                j,
                i,
                fmt_pct(v, digits=0),
                ha="center",
                va="center",
                fontsize=8.5,
                color="white" if v > 0.55 else INK,
            )
        ax.set_xticks(range(len(table.columns)), [_period_label(p) for p in table.columns])
        ax.set_yticks(range(len(table.index)), [str(c) for c in table.index])
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(title, pad=22)
        return to_svg(fig, salt)


def segment_plot(frame: Any, salt: str) -> str:
    """Relative lift vs control by segment, one panel per dimension (dot + CI when given)."""
    dims = list(dict.fromkeys(frame["dimension"].tolist()))
    with plt.rc_context(_RC):
        heights = [max(1, frame[frame["dimension"] == d]["label"].nunique()) for d in dims]
        fig, axes = plt.subplots(
            len(dims),
            1,
            figsize=(9.6, 0.8 * len(dims) + 0.38 * sum(heights)),
            squeeze=False,
            gridspec_kw={"height_ratios": heights},
            sharex=True,
        )
        values = [
            abs(v)
            for c in ("rel_lift", "rel_ci_low", "rel_ci_high")
            if c in frame
            for v in frame[c].astype(float)
            if math.isfinite(v)
        ]
        lim = max(values, default=0.05) * 1.15 or 0.05
        for ax, dim in zip(axes[:, 0], dims, strict=True):
            part = frame[frame["dimension"] == dim].reset_index(drop=True)
            n = len(part)
            for i, row in part.iterrows():
                y = n - 1 - i
                colour = row.get("colour", BLUE)
                lo, hi = _nan(row.get("rel_ci_low")), _nan(row.get("rel_ci_high"))
                if math.isfinite(lo) and math.isfinite(hi):
                    ax.plot([lo, hi], [y, y], color=colour, lw=2.2)
                est = _nan(row.get("rel_lift"))
                if math.isfinite(est):
                    ax.plot([est], [y], "o", color=colour, ms=7)
                else:
                    ax.text(0, y, "  insufficient data", va="center", color=MUTED, fontsize=8.5)
            ax.set_yticks(range(n), list(part["label"])[::-1])
            ax.axvline(0, color=INK, lw=1)
            ax.set_ylim(-0.6, n - 0.4)
            ax.set_title(str(dim).replace("_", " "), fontsize=10)
            ax.grid(axis="x", color=GRID, lw=0.8)
            ax.tick_params(axis="y", length=0)
            ax.set_xlim(-lim, lim)
            _pct_axis(ax)
        axes[-1, 0].set_xlabel("relative lift vs control", color=MUTED)
        fig.tight_layout(h_pad=1.2)
        return to_svg(fig, salt)


def _cells(data: Any) -> list[tuple[tuple[int, int], float]]:
    return [
        ((i, j), float(v))
        for i, row in enumerate(data)
        for j, v in enumerate(row)
        if math.isfinite(float(v))
    ]


def _period_label(period: Any) -> str:
    if isinstance(period, int | float) and not isinstance(period, bool):
        return f"M{int(period)}"
    return str(period)


def _nan(value: Any) -> float:
    return float(value) if is_num(value) else math.nan
