"""Exports (seed 004): clean-named CSV + Parquet per table, CLV workbook, heatmap; no Spark."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from openpyxl import load_workbook

from include import exports


def frames() -> dict[str, pd.DataFrame]:
    revenue = pd.DataFrame(
        {
            "month": ["2024-01", "2024-02"],
            "mrr": [Decimal("107.00"), Decimal("108.00")],
            "paying_customers": [3, 2],
            "arpu": [Decimal("35.67"), Decimal("54.00")],
            "customer_churn_rate": [None, 2 / 3],
            "revenue_churn_rate": [None, 78 / 107],
        }
    )
    retention = pd.DataFrame(
        {
            "cohort": ["2024-01", "2024-01", "2024-02"],
            "month_offset": [0, 1, 0],
            "retention_rate": [0.75, 0.25, 1.0],
        }
    )
    users = pd.DataFrame({"User ID": [1, 2], "Current MRR ($)": [Decimal("29.00"), None]})
    return {"monthly_revenue": revenue, "cohort_retention": retention, "user_master": users}


def test_clean_column_names():
    assert exports.clean_column_name("Current MRR ($)") == "current_mrr"
    assert exports.clean_column_name(" Retention Rate % ") == "retention_rate"


def test_write_exports_layout_and_contents(tmp_path):
    out = exports.write_exports(frames(), tmp_path, "2024-02-29")
    root = tmp_path / "ds=2024-02-29"
    assert out["dir"] == str(root)
    names = sorted(p.name for p in (root / "tableau_ready").iterdir())
    assert names == sorted(
        f"{t}.{ext}"
        for t in ("monthly_revenue", "cohort_retention", "user_master")
        for ext in ("csv", "parquet")
    )
    users = pd.read_parquet(root / "tableau_ready/user_master.parquet")
    assert list(users.columns) == ["user_id", "current_mrr"]
    assert users["current_mrr"].dtype == "float64" and users["current_mrr"].iloc[0] == 29.0
    assert pd.read_csv(root / "tableau_ready/monthly_revenue.csv")["mrr"].tolist() == [107, 108]

    book = load_workbook(root / "clv_inputs.xlsx", read_only=True)
    assert book.sheetnames == [
        "README", "monthly_revenue", "retention", "arpu", "churn_rate", "clv_estimate",
    ]  # fmt: skip
    heat = list(book["retention"].values)
    assert heat[0] == ("cohort", "m0", "m1")
    assert heat[1] == ("2024-01", 0.75, 0.25)
    clv = {r[0]: r[1] for r in list(book["clv_estimate"].values)[1:]}
    assert abs(clv["clv_estimate"] - 54.0 / (2 / 3)) < 1e-9  # ARPU / monthly churn

    png = (root / "retention_heatmap.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"

    # a re-run replaces the run's folder: same files, nothing left over
    (root / "stray.txt").write_text("x")
    exports.write_exports(frames(), tmp_path, "2024-02-29")
    assert not (root / "stray.txt").exists()
    assert sorted(p.name for p in (root / "tableau_ready").iterdir()) == names
