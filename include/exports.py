"""Seed 004's exports: BI-ready files, the CLV inputs workbook and a retention heatmap.

Everything here works on small pandas DataFrames (gold aggregates collected by the
``gold.finance.exports`` job), so it needs no Spark and is tested on plain frames.
Layout of one run (``ds``), replaced as a whole so a re-run gives the same files::

    {exports_dir}/ds=YYYY-MM-DD/tableau_ready/{table}.csv
    {exports_dir}/ds=YYYY-MM-DD/tableau_ready/{table}.parquet
    {exports_dir}/ds=YYYY-MM-DD/clv_inputs.xlsx
    {exports_dir}/ds=YYYY-MM-DD/retention_heatmap.png

The run is written into a temporary sibling folder and renamed into place, so readers never
see half an export.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pandas as pd

_CLEAN = re.compile(r"[^0-9a-z]+")

CLV_README = (
    ("sheet", "what it holds"),
    ("monthly_revenue", "month, MRR at month end, ARR, paying customers, ARPU, bridge movements"),
    ("retention", "cohort x month_offset retention_rate (cohort = first paid month)"),
    ("arpu", "month, ARPU = MRR / paying customers"),
    ("churn_rate", "month, customer churn rate and revenue churn rate vs month start"),
    ("clv_estimate", "ARPU / customer churn rate over the months with churn (simple CLV)"),
    ("notes", "MRR snapshot rule of seed 004: End = Start + New + Expansion - Contraction - Churn"),
)


def clean_column_name(name: str) -> str:
    """``Retention Rate (%)`` -> ``retention_rate``: lower snake case BI tools accept."""
    cleaned = _CLEAN.sub("_", name.strip().lower()).strip("_")
    return cleaned or "column"


def to_bi_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Clean column names; Decimal money as float (BI tools and Excel want numbers)."""
    out = df.rename(columns={c: clean_column_name(str(c)) for c in df.columns}).copy()
    for column in out.columns:
        values = out[column].dropna()
        if len(values) and isinstance(values.iloc[0], Decimal):
            out[column] = (
                out[column].map(lambda v: None if v is None else float(v)).astype("float64")
            )
    return out


def run_dir(exports_dir: Path | str, ds: str) -> Path:
    return Path(exports_dir) / f"ds={ds}"


def write_table_files(frames: Mapping[str, pd.DataFrame], folder: Path) -> list[Path]:
    """One CSV and one Parquet per table, clean names, no index."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames.items():
        bi = to_bi_frame(frame)
        csv_path = folder / f"{clean_column_name(name)}.csv"
        parquet_path = folder / f"{clean_column_name(name)}.parquet"
        bi.to_csv(csv_path, index=False)
        bi.to_parquet(parquet_path, index=False)
        written += [csv_path, parquet_path]
    return written


def clv_sheets(monthly_revenue: pd.DataFrame, cohort_retention: pd.DataFrame) -> dict:
    """The CLV input tables, one per workbook sheet (README first)."""
    revenue = to_bi_frame(monthly_revenue).sort_values("month")
    retention = to_bi_frame(cohort_retention)
    heat = (
        retention.pivot_table(
            index="cohort", columns="month_offset", values="retention_rate", aggfunc="first"
        )
        .sort_index()
        .reset_index()
    )
    heat.columns = [c if isinstance(c, str) else f"m{int(c)}" for c in heat.columns]
    churn = revenue[["month", "customer_churn_rate", "revenue_churn_rate"]]
    with_churn = churn["customer_churn_rate"].fillna(0) > 0
    mean_churn = churn.loc[with_churn, "customer_churn_rate"].mean()
    latest_arpu = revenue["arpu"].dropna().iloc[-1] if revenue["arpu"].notna().any() else None
    clv = pd.DataFrame(
        {
            "metric": ["latest_arpu", "mean_monthly_customer_churn_rate", "clv_estimate"],
            "value": [
                latest_arpu,
                mean_churn if with_churn.any() else None,
                latest_arpu / mean_churn if with_churn.any() and latest_arpu else None,
            ],
        }
    )
    return {
        "README": pd.DataFrame(CLV_README[1:], columns=list(CLV_README[0])),
        "monthly_revenue": revenue,
        "retention": heat,
        "arpu": revenue[["month", "arpu", "mrr", "paying_customers"]],
        "churn_rate": churn,
        "clv_estimate": clv,
    }


def write_clv_workbook(
    monthly_revenue: pd.DataFrame, cohort_retention: pd.DataFrame, path: Path
) -> Path:
    """clv_inputs.xlsx: README, monthly_revenue, retention, arpu, churn_rate, clv_estimate."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, frame in clv_sheets(monthly_revenue, cohort_retention).items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
    return path


def write_retention_heatmap(cohort_retention: pd.DataFrame, path: Path) -> Path:
    """Seed 004's retention heatmap: rows cohort, columns month_offset, colour retention_rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = to_bi_frame(cohort_retention).pivot_table(
        index="cohort", columns="month_offset", values="retention_rate", aggfunc="first"
    )
    # room for the title, labels and colour bar even with one cohort (seen: a January-only
    # export cut its title and labels off at 1.8 x 1.65 in)
    fig, ax = plt.subplots(figsize=(max(6.0, 2.6 + 0.55 * len(grid.columns)),
                                    max(3.0, 1.7 + 0.4 * len(grid.index))))  # fmt: skip
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(grid.columns)), [str(c) for c in grid.columns])
    ax.set_yticks(range(len(grid.index)), list(grid.index))
    ax.set_xlabel("month_offset")
    ax.set_ylabel("cohort (first paid month)")
    ax.set_title("Paying-customer retention by cohort")
    for (i, j), value in pd.DataFrame(grid.to_numpy()).stack().items():
        # dark text on the light (high) end of viridis, white on the dark end
        ax.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=7,
                color="black" if value >= 0.6 else "white")
    fig.colorbar(image, ax=ax, label="retention_rate")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_exports(frames: Mapping[str, pd.DataFrame], exports_dir: Path | str, ds: str) -> dict:
    """Write the whole export of ``ds`` atomically; returns what was written per kind."""
    final = run_dir(exports_dir, ds)
    staging = final.with_name(final.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    tables = write_table_files(frames, staging / "tableau_ready")
    workbook = write_clv_workbook(
        frames["monthly_revenue"], frames["cohort_retention"], staging / "clv_inputs.xlsx"
    )
    heatmap = write_retention_heatmap(frames["cohort_retention"], staging / "retention_heatmap.png")
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    rel = [p.relative_to(staging) for p in (*tables, workbook, heatmap)]
    return {"dir": str(final), "files": [str(final / r) for r in rel]}
