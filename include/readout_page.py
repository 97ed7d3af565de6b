"""A compact HTML page for a daily readout: verdict per experiment first, then the numbers.

Self-contained (inline CSS, no scripts), escaped (jinja2 autoescape), written atomically to
``{reports_dir}/{readout}/{ds}/index.html``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from jinja2 import Environment, select_autoescape

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ readout }} · {{ ds }}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#1d1d1f;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .2rem} .sub{color:#666;margin-bottom:1.5rem}
.exp{border:1px solid #e3e3e3;border-radius:10px;padding:1rem 1.2rem;margin:1.2rem 0}
.badge{display:inline-block;padding:.25rem .7rem;border-radius:999px;font-weight:700;letter-spacing:.03em;color:#fff}
.ship{background:#009E73}.do_not_ship{background:#D55E00}.keep_running{background:#E69F00}.invalid{background:#555}
table{border-collapse:collapse;width:100%;margin-top:.6rem;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .5rem;border-bottom:1px solid #eee;text-align:right} th{background:#fafafa}
td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}
.sig{font-weight:700;color:#0072B2} ul{margin:.4rem 0 .2rem 1.2rem;color:#333} footer{color:#777;font-size:.85rem;margin-top:2rem}
</style></head><body>
<h1>Readout: {{ readout }}</h1><div class="sub">partition ds = {{ ds }}</div>
{% for exp, s in summaries|dictsort %}
<section class="exp"><h2>{{ exp }} <span class="badge {{ s.verdict }}">{{ s.verdict|replace('_',' ')|upper }}</span></h2>
<ul>{% for r in s.reasons %}<li>{{ r }}</li>{% endfor %}</ul>
<div>Units per variant: {% for v, n in s.counts|dictsort %}{{ v }} {{ '{:,.0f}'.format(n) }}{% if not loop.last %} · {% endif %}{% endfor %}
 · contaminated (excluded): {{ s.contaminated }} · trust checks: {{ s.trust }}</div>
<table><tr><th>metric</th><th>segment / variant</th><th>control</th><th>variant</th><th>abs lift [95% CI]</th><th>rel lift</th><th>p (adj.)</th><th>P(beat)</th></tr>
{% for r in s.records %}<tr><td>{{ r.metric }} <small>({{ r.role }})</small></td><td>{{ r.segment }} / {{ r.variant }}</td>
<td>{{ fmt(r.control_mean) }}</td><td>{{ fmt(r.variant_mean) }}</td>
<td>{{ fmt(r.abs_lift) }} [{{ fmt(r.abs_ci_low) }}, {{ fmt(r.abs_ci_high) }}]</td><td>{{ pct(r.rel_lift) }}</td>
<td class="{{ 'sig' if r.significant else '' }}">{{ pval(r.p_value_adjusted) }}</td><td>{{ pct(r.prob_beat_control) }}</td></tr>{% endfor %}
</table></section>
{% endfor %}
<footer>Inputs read (Delta versions): {% for t, v in versions|dictsort %}{{ t }}@v{{ v }} {% endfor %}</footer>
</body></html>
"""


def _fmt(x):
    return "–" if x is None else f"{x:.4g}"


def _pct(x):
    return "–" if x is None else f"{100 * x:+.1f}%" if abs(x) < 10 else f"{100 * x:.0f}%"


def _pval(p):
    return "–" if p is None else "<0.001" if p < 0.001 else f"{p:.3f}"


def render(readout: str, ds: str, summaries: dict, versions: dict[str, int]) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(_TEMPLATE)
    return template.render(
        readout=readout, ds=ds, summaries=summaries, versions=versions,
        fmt=_fmt, pct=_pct, pval=_pval,
    )


def write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def write_simple_report(reports_dir: Path, readout: str, ds: str, summaries: dict,
                        versions: dict[str, int]) -> Path:
    return write_atomic(
        Path(reports_dir) / readout / ds / "index.html", render(readout, ds, summaries, versions)
    )
