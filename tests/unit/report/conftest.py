"""Repository root importable however pytest is run; the seeded sample bundle, built once."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


import pytest  # noqa: E402

from include.report.bundle import ReadoutBundle  # noqa: E402
from include.report.sample import sample_bundle  # noqa: E402


@pytest.fixture(scope="session")
def bundle() -> ReadoutBundle:
    """The seeded sample: 2 metrics, control + 2 treatments, 2 segments, 14 days."""
    return sample_bundle()


@pytest.fixture(scope="session")
def html(bundle: ReadoutBundle) -> str:
    from include.report import render_html

    return render_html(bundle)
