"""Gate tasks of one day run side by side and share the day's GX project (include.quality).

Seen in the demo before the project lock: a gate task opened the project while another one
was rewriting great_expectations.yml, read half a file and failed with ``TypeError:
argument of type 'NoneType' is not iterable``. Here four processes validate into one
fresh project at once, six times each, every one under a different asset name (so each
adds to the file, as the day's gates do): every validation must succeed and be recorded.
No Spark: the frames are small pandas ones, as the gates validate small partitions.
"""

from __future__ import annotations

import multiprocessing as mp

DS = "2024-01-05"
WORKERS, ROUNDS = 4, 6


def _validate_many(state_dir: str, worker: int, out) -> None:
    import os

    os.environ["LAKEHOUSE_STATE_DIR"] = state_dir
    import pandas as pd

    from include.quality import validate
    from include.settings import load_settings

    settings = load_settings()
    spec = {
        "name": "concurrency", "table": "silver.products",
        "expectations": [{"type": "expect_column_values_to_not_be_null",
                          "kwargs": {"column": "product_id"},
                          "meta": {"rule": "product_id is not null", "severity": "block"}}],
    }  # fmt: skip
    frame = pd.DataFrame({"product_id": ["crs_001", "crs_002"]})
    done = []
    try:
        for i in range(ROUNDS):
            result = validate(frame, "concurrency", DS, settings, spec=spec,
                              batch_name=f"w{worker}_r{i}")  # fmt: skip
            done.append(result.status)
        out.put((worker, done, None))
    except Exception as err:  # reported to the parent, which fails the test with it
        out.put((worker, done, repr(err)))


def test_gate_tasks_validating_side_by_side_share_the_day_s_project(tmp_path):
    ctx = mp.get_context("spawn")  # fresh interpreters, as separate Airflow task processes
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_validate_many, args=(str(tmp_path / "state"), w, out))
        for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [(w, err) for w, _, err in results if err]
    assert not errors, errors
    assert sorted(w for w, _, _ in results) == list(range(WORKERS))
    assert all(statuses == ["pass"] * ROUNDS for _, statuses, _ in results)
    validations = list((tmp_path / "state").rglob("uncommitted/validations/**/*.json"))
    assert len(validations) == WORKERS * ROUNDS
