"""The readouts' index page: one row per experiment from its newest readout, with its state."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from include.report.bundle import ReadoutBundle
from include.report.index import render_index, state_of, summary_of, write_index
from include.report.writer import write_report
from include.stats.verdict import Verdict


def test_the_state_comes_from_the_decision_and_final_days():
    assert state_of("2024-01-08", "2024-01-09", "2024-03-09") == "running"
    assert state_of("2024-01-09", "2024-01-09", "2024-03-09") == "decided"
    assert state_of("2024-03-09", "2024-01-09", "2024-03-09") == "concluded"
    assert state_of("2024-01-12", "2024-01-12", "2024-01-12") == "concluded"
    assert state_of("2024-01-01", None, None) == "running"


def test_the_index_lists_each_experiment_from_its_newest_readout(
    bundle: ReadoutBundle, tmp_path: Path
) -> None:
    days = {"decision_day": "2024-01-09", "final_day": "2024-03-09"}
    early = replace(bundle, ds="2024-01-05", deep_dive=None, **days,
                    verdict=Verdict("keep_running", None, ("trust checks: pass",
                                                           "below the minimum sample")))
    decided = replace(early, ds="2024-01-09",
                      verdict=Verdict("ship", "treatment_a", ("trust checks: pass",
                                                              "warning: x",
                                                              "activation up, significant")))
    other = replace(early, experiment="pdp_<b>redesign</b>", ds="2024-01-12",
                    decision_day="2024-01-12", final_day="2024-01-12",
                    verdict=Verdict("do_not_ship", None, ("purchase significantly worse",)))
    for b in (decided, early, other):  # an older day written last changes nothing
        paths = write_report(b, tmp_path)
    assert paths["index"] == tmp_path / "index.html"
    page = paths["index"].read_text()

    summary = json.loads((tmp_path / "homepage_cta_test" / "2024-01-09" / "summary.json")
                         .read_text())  # fmt: skip
    assert summary == summary_of(decided)
    assert (summary["verdict"], summary["variant"], summary["state"]) == (
        "ship", "treatment_a", "decided")
    # the first reason that is not the trust line or a warning
    assert summary["reason"] == "activation up, significant"

    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr ")[1:]
    assert len(rows) == 2
    cta = next(r for r in rows if "homepage_cta_test" in r)
    assert 'href="homepage_cta_test/2024-01-09/readout.html"' in cta
    assert "<b>Ship</b> (treatment_a)" in cta and "<td>decided</td>" in cta
    assert 'href="homepage_cta_test/2024-01-05/readout.html" title="keep_running"' in cta
    pdp = next(r for r in rows if "redesign" in r)
    # the name is text, never markup; the link is the safe folder name ("pdp_" + "_" for
    # "<", "b", "_" for ">", "redesign", "_" for "</", "b", "_" stripped at the end)
    assert "pdp_&lt;b&gt;redesign&lt;/b&gt;" in pdp and "<b>redesign" not in pdp
    assert 'href="pdp__b_redesign_b/2024-01-12/readout.html"' in pdp
    assert "<b>Do not ship</b>" in pdp and "<td>concluded</td>" in pdp

    # rebuilt from the files alone: the same bytes
    assert write_index(tmp_path).read_text() == page


def test_an_empty_folder_and_foreign_files(tmp_path: Path) -> None:
    assert "No readout yet" in write_index(tmp_path).read_text()
    (tmp_path / "x" / "2024-01-01").mkdir(parents=True)
    (tmp_path / "x" / "2024-01-01" / "summary.json").write_text("not json")
    (tmp_path / "y" / "2024-01-01").mkdir(parents=True)
    (tmp_path / "y" / "2024-01-01" / "summary.json").write_text('{"ds": "2024-01-01"}')
    assert "No readout yet" in render_index({}) == write_index(tmp_path).read_text()
