"""A readout against the planted truth: the checks of the truth run (issue 29, item 12).

``bench/bench_truth.py`` and ``scripts/show_results.py`` (a demo of the truth world) compare
each experiment's decision-day readout with the generator's manifests:

* each primary metric's planted relative lift lies inside the readout's interval of the
  relative lift (a metric the world cannot show, with no interval, is reported as such);
  guardrails and any other metric the generator plants a lift for (the shop's revenue per
  order, a ratio metric) are compared and reported, not judged;
* the verdict is the planted one: ``ship`` for a planted win (a primary metric planted up,
  none down), ``do_not_ship`` for a planted loss or a flat metric.

Beside each estimate: the lift the generated sample actually holds (the manifests' per-arm
realised outcomes of the exposed cohorts), so a miss can be told apart from sampling noise.
"""

from __future__ import annotations

SHIP, DO_NOT_SHIP = "ship", "do_not_ship"
# per funnel: readout metric -> (realised count key of a manifest arm, denominator key)
REALISED = {
    "saas": {
        "activation": "realized_activations_by_end",
        "conversion": "realized_conversions_by_end",
        "nb_mrr": "realized_nb_mrr_by_end",
    },
    "shop": {"purchase": "realized_purchases", "revenue": "realized_revenue"},
}
READOUT_FIELDS = (
    "metric", "role", "variant", "control_n", "variant_n", "control_mean", "variant_mean",
    "rel_lift", "rel_ci_low", "rel_ci_high", "p_value", "significant", "status", "verdict",
    "verdict_reasons",
)  # fmt: skip


def planted_verdict(planted: dict[str, float]) -> str:
    """``ship`` when a primary metric is planted up and none down, else ``do_not_ship`` (a
    planted loss, or every primary flat)."""
    lifts = list(planted.values())
    return SHIP if any(x > 0 for x in lifts) and not any(x < 0 for x in lifts) else DO_NOT_SHIP


def realised_lifts(funnel: str, manifests: list[dict], name: str, control: str) -> dict:
    """{metric: {variant: relative lift the generated cohorts hold}} summed over the days'
    manifests (each one's ``exposed_today`` is that day's newly exposed cohort), per exposed
    unit. None where the control holds none of it (no rate to compare with)."""
    totals: dict[str, dict[str, float]] = {}
    for m in manifests:
        exp = m.get("experiments", {}).get(name) or {}
        for arm, counts in (exp.get("exposed_today") or {}).items():
            t = totals.setdefault(arm, {})
            for key, value in counts.items():
                t[key] = t.get(key, 0.0) + float(value)
    out: dict[str, dict] = {}
    for metric, key in REALISED[funnel].items():
        base = totals.get(control, {})
        if not base.get("exposed") or not base.get(key):
            out[metric] = {arm: None for arm in totals if arm != control}
            continue
        rate_c = base[key] / base["exposed"]
        out[metric] = {
            arm: (t.get(key, 0.0) / t["exposed"]) / rate_c - 1 if t.get("exposed") else None
            for arm, t in totals.items()
            if arm != control
        }
    return out


def compare(spec, planted: dict[str, dict[str, float]], realised: dict, rows: list[dict]) -> dict:
    """One experiment's decision-day readout against its planted truth.

    ``planted``: {metric: {variant: planted relative lift}} (the manifest's
    ``planted_relative_lift``); ``rows``: the readout's overall-segment rows. Returns the
    per-metric table, the verdicts and ``passed``."""
    decision = {(r["metric"], r["variant"]): r for r in rows}
    verdicts = {r.get("verdict") for r in rows}
    if len(verdicts) != 1:
        raise ValueError(f"{spec.name}: the readout rows disagree on the verdict: {verdicts}")
    verdict = verdicts.pop()
    table, misses = [], []
    primaries = {}
    for metric in spec.metrics:
        # primaries and guardrails, and any other metric the generator planted a lift for
        # (the shop's revenue per order); only a primary's planted lift outside its interval
        # is a miss, the others are reported
        if metric.role not in ("primary", "guardrail") and metric.name not in planted:
            continue
        for variant in spec.variant_names:
            if variant == spec.control:
                continue
            lift = (planted.get(metric.name) or {}).get(variant, 0.0)
            if metric.role == "primary":
                primaries[f"{metric.name}:{variant}"] = lift
            row = decision.get((metric.name, variant))
            if row is None:
                raise ValueError(f"{spec.name}: no readout row for {metric.name} / {variant}")
            low, high = row.get("rel_ci_low"), row.get("rel_ci_high")
            inside = None if low is None or high is None else bool(low <= lift <= high)
            if metric.role == "primary" and inside is False:
                misses.append(f"{metric.name} ({variant}): planted {lift:+.1%} outside "
                              f"[{low:+.1%}, {high:+.1%}]")  # fmt: skip
            table.append({
                "metric": metric.name, "role": metric.role, "variant": variant,
                "planted": lift, "realised": (realised.get(metric.name) or {}).get(variant),
                "estimate": row.get("rel_lift"), "ci": [low, high], "inside": inside,
                "p_value": row.get("p_value"), "significant": row.get("significant"),
                "status": row.get("status"), "n": [row.get("control_n"), row.get("variant_n")],
            })  # fmt: skip
    expected = planted_verdict(primaries)
    if verdict != expected:
        misses.append(f"verdict {verdict}, planted {expected}")
    return {"experiment": spec.name, "decision_day": spec.decision_day.isoformat(),
            "verdict": verdict, "planted_verdict": expected, "metrics": table,
            "misses": misses, "passed": not misses}  # fmt: skip


def format_table(results: list[dict]) -> str:
    def pct(x) -> str:
        return "n/a" if x is None else f"{x:+.1%}"

    lines = [f"{'experiment':18} {'metric':12} {'role':9} {'planted':>8} {'in sample':>9} "
             f"{'estimate':>9} {'interval':>19} {'inside':>6} {'p':>8}  status"]  # fmt: skip
    for res in results:
        for m in res["metrics"]:
            low, high = m["ci"]
            interval = "n/a" if low is None else f"[{pct(low)}, {pct(high)}]"
            p = "n/a" if m["p_value"] is None else f"{m['p_value']:.2g}"
            inside = {None: "n/a", True: "yes", False: "NO"}[m["inside"]]
            lines.append(
                f"{res['experiment']:18} {m['metric']:12} {m['role']:9} {pct(m['planted']):>8} "
                f"{pct(m['realised']):>9} {pct(m['estimate']):>9} {interval:>19} {inside:>6} "
                f"{p:>8}  {m['status']} n={m['n'][0]}/{m['n'][1]}"
            )
        lines.append(
            f"{res['experiment']:18} verdict on {res['decision_day']}: {res['verdict']} "
            f"(planted: {res['planted_verdict']}) -> {'PASS' if res['passed'] else 'FAIL'}"
            + ("" if res["passed"] else "; " + "; ".join(res["misses"]))
        )
    return "\n".join(lines)


def judge(spec, manifests: list[dict], rows: list[dict]) -> dict:
    """:func:`compare` of one experiment's decision-day readout ``rows`` with the planted
    truth of the generator's ``manifests`` (any that name the experiment carry its planted
    lifts; their ``exposed_today`` cohorts give the lifts the sample holds)."""
    planted = next((m["experiments"][spec.name]["planted_relative_lift"]
                    for m in manifests if spec.name in m.get("experiments", {})), None)  # fmt: skip
    if planted is None:
        raise ValueError(f"{spec.name}: no manifest plants anything for it")
    realised = realised_lifts(spec.funnel, manifests, spec.name, spec.control)
    return compare(spec, planted, realised, rows)

