"""Several Spark drivers (separate JVMs, like parallel DAG runs' spark-submits) committing to
one Delta table on S3 (MinIO) at the same moment: nothing is lost.

Delta's default S3 log store assumes one writing driver; the lakehouse commits through
``io.lakehouse.delta.S3ConditionalPutLogStore`` (conf/jvm/logstore), which creates each
``_delta_log/N.json`` with a conditional PUT (``If-None-Match: *``): exactly one driver wins a
version, the others get ``FileAlreadyExistsException``, find no logical conflict (disjoint
``replaceWhere`` partitions) and retry at the next version.

Three writer processes (``multi_driver_writer.py``, each ``local[1]`` with a few rows) are
released together at file barriers:

* ``put``: the log store's put-if-absent of one path: exactly one wins, the others get
  ``java.nio.file.FileAlreadyExistsException`` and the object holds the winner's bytes;
* ``new_table``: each writes its own ``ds`` of a table that does not exist yet (they also race
  to create it);
* ``existing_table``: each writes another ``ds`` of the now existing table.

In both table phases the rows come from a task that waits at a second barrier, so all three
transactions have read the same snapshot before any commits: they are bound to collide on the
same log version, and the history proves it (three commits with one ``readVersion`` and
consecutive versions: two of them lost a race and retried).

``python tests/unit/test_multi_driver_commits.py --logstore CLASS`` (Delta's default is
``io.delta.storage.S3SingleDriverLogStore``) races the same writers with that log store, 20
put-if-absent rounds and 10 rounds of one-row blind appends, and prints what was lost (a
demonstration of the bug: timing-dependent, so not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("multi_driver_writer.py")
WRITERS = 3
PHASES = {
    "new_table": {i: (f"2024-06-0{1 + i}", 3 + i) for i in range(WRITERS)},
    "existing_table": {i: (f"2024-06-0{4 + i}", 6 + i) for i in range(WRITERS)},
}
TABLE = "silver/multi_driver_probe"


def _barriers(put_rounds: int, phases: dict, append_rounds: int) -> list[str]:
    """The writers' barriers, in the order they reach them (multi_driver_writer.py)."""
    return ([f"put.{k}" for k in range(put_rounds)]
            + [b for name in phases for b in (name, f"{name}.data")]
            + [f"append.{k}" for k in range(append_rounds)] + ["verify"])  # fmt: skip


def _coordinate(procs: list[subprocess.Popen], flags: Path, barriers: list[str],
                timeout: float) -> None:  # fmt: skip
    """Open each barrier once every writer waits at it (all of them, at the same moment)."""
    deadline = time.monotonic() + timeout
    for name in barriers:
        while len(list(flags.glob(f"{name}.ready.*"))) < WRITERS:
            if any(p.poll() not in (None, 0) for p in procs) or time.monotonic() > deadline:
                for rest in barriers:  # let the others finish; the caller reports the failure
                    (flags / f"{rest}.go").touch()
                return
            time.sleep(0.005)
        (flags / f"{name}.go").touch()


def _results(out: Path) -> dict[str, dict]:
    lines = [ln for ln in out.read_text().splitlines() if ln.startswith("RESULT ")]
    return {r["phase"]: r for r in (json.loads(ln[len("RESULT "):]) for ln in lines)}


def run_race(settings, workdir: Path, logstore: str | None = None, put_rounds: int = 1,
             phases: dict = PHASES, append_rounds: int = 0, server=None) -> dict:  # fmt: skip
    """Run the writers once against ``settings``' warehouse; return what each reported.

    Without ``server`` each writer is a driver of its own (a JVM each); with it, each is a
    Spark Connect client of that server (no put race then: it needs a JVM in the writer).
    """
    from tests.conftest import classic_env

    flags = workdir / "flags"
    flags.mkdir(parents=True)
    race_path = f"{settings.warehouse_root}/put-race/_delta_log/{{:020d}}.json"
    if server is None:
        env = classic_env(LAKEHOUSE_SPARK_MASTER="local[1]", LAKEHOUSE_DRIVER_MEMORY="512m",
                          LAKEHOUSE_METASTORE="false",
                          LAKEHOUSE_DELTA_SNAPSHOT_PARTITIONS="1")  # fmt: skip
    else:
        env = {**os.environ, "LAKEHOUSE_METASTORE": "false",
               "LAKEHOUSE_CONNECT_HOST": server.host, "LAKEHOUSE_CONNECT_PORT": str(server.port),
               "LAKEHOUSE_CONNECT_TOKEN": server.token}  # fmt: skip
        put_rounds = 0
    procs, outs = [], []
    for i in range(WRITERS):
        spec = {"index": i, "flags": str(flags), "race_path": race_path, "logstore": logstore,
                "engine": "submit" if server is None else "connect",
                "put_rounds": put_rounds, "append_rounds": append_rounds,
                "append_path": f"{settings.warehouse_root}/appends",
                "phases": [{"name": name, "ds": days[i][0], "rows": days[i][1]}
                           for name, days in phases.items()]}  # fmt: skip
        out = workdir / f"writer{i}.log"
        outs.append(out)
        with out.open("w") as sink:
            procs.append(subprocess.Popen(
                [sys.executable, str(WRITER), json.dumps(spec)], cwd=ROOT, env=env,
                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True))  # fmt: skip
    started = time.monotonic()
    try:
        _coordinate(procs, flags, _barriers(put_rounds, phases, append_rounds), timeout=480)
        for p in procs:
            p.wait(timeout=max(10, 600 - (time.monotonic() - started)))
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, 9)
                p.wait()
    return {
        "seconds": round(time.monotonic() - started, 1),
        "codes": [p.returncode for p in procs],
        "writers": [_results(out) for out in outs],
        "logs": [out.read_text()[-4000:] for out in outs],
        "race_object": _read(settings, race_path.format(0)),
        "log_files": _log_versions(settings),
    }


def _read(settings, uri: str) -> str | None:
    from include.storage import s3_client, split_s3_uri

    bucket, key = split_s3_uri(uri)
    try:
        return s3_client(settings).get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    except Exception:  # noqa: BLE001 - missing object: reported as None
        return None


def _log_versions(settings) -> list[int]:
    """The commit files in the table's _delta_log, read straight from the object store."""
    from include.storage import list_keys

    keys = list_keys(f"{settings.warehouse_root}/{TABLE}/_delta_log/", settings)
    return sorted(int(Path(k).stem) for k in keys if k.endswith(".json"))


def _minio(monkeypatch, bucket: str):
    from include.settings import load_settings
    from include.storage import s3_client

    settings = load_settings()
    try:
        urllib.request.urlopen(f"{settings.s3_endpoint}/minio/health/live", timeout=2)
    except OSError:  # not up yet (CI's run_tests.sh starts it): start this checkout's services
        subprocess.run([str(ROOT / "scripts" / "services.sh"), "start-storage"], check=True,
                       capture_output=True)  # fmt: skip
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", f"s3a://{bucket}/wh")
    monkeypatch.setenv("LAKEHOUSE_METASTORE", "false")
    settings = load_settings()
    s3_client(settings).create_bucket(Bucket=bucket)
    return settings


def _drop_bucket(settings, bucket: str) -> None:
    from include.storage import delete_prefix, s3_client

    delete_prefix(f"s3a://{bucket}/", settings)
    s3_client(settings).delete_bucket(Bucket=bucket)


@pytest.mark.integration
def test_parallel_drivers_lose_no_commit(monkeypatch, tmp_path):
    bucket = f"multi-driver-{uuid.uuid4().hex[:8]}"  # the test's own bucket, dropped after
    settings = _minio(monkeypatch, bucket)
    try:
        run = run_race(settings, tmp_path)
    finally:
        _drop_bucket(settings, bucket)
    context = json.dumps({k: run[k] for k in ("seconds", "codes", "writers")}, indent=1)
    assert run["codes"] == [0] * WRITERS, context + "\n" + "\n----\n".join(run["logs"])
    writers = run["writers"]

    # the log store itself: one put-if-absent wins, the others are told the file exists
    outcomes = sorted(w["put"]["outcomes"][0] for w in writers)
    assert outcomes == ["java.nio.file.FileAlreadyExistsException"] * (WRITERS - 1) + ["won"]
    winner = next(i for i, w in enumerate(writers) if w["put"]["outcomes"] == ["won"])
    assert json.loads(run["race_object"]) == {"writer": winner}
    print(_check_table_phases(run, context))


@pytest.mark.integration
def test_parallel_clients_of_the_server_lose_no_commit(monkeypatch, tmp_path, engine_server):
    """The same race through the Spark Connect server: three client processes (three Airflow
    tasks), each a session of the one shared driver, commit to one table at once."""
    bucket = f"multi-client-{uuid.uuid4().hex[:8]}"
    settings = _minio(monkeypatch, bucket)
    try:
        run = run_race(settings, tmp_path, server=engine_server)
    finally:
        _drop_bucket(settings, bucket)
    context = json.dumps({k: run[k] for k in ("seconds", "codes", "writers")}, indent=1)
    assert run["codes"] == [0] * WRITERS, context + "\n" + "\n----\n".join(run["logs"])
    print(_check_table_phases(run, context))


def _check_table_phases(run: dict, context: str) -> dict:
    """Every writer's rows landed, one commit per writer and phase, after racing."""
    writers = run["writers"]
    assert all("S3ConditionalPutLogStore" in w[p]["delta_log_store"]
               for w in writers for p in PHASES), context  # fmt: skip

    # every ds holds exactly its writer's rows
    expected = sorted([ds, f"w{i}", n] for days in PHASES.values() for i, (ds, n) in days.items())
    verify = writers[0]["verify"]
    assert verify["counts"] == expected, context

    # one commit per writer and phase, distinct versions, each writer saw its own rows
    history = {v: (op, read, meta) for v, op, read, meta in verify["history"]}
    assert history[0][0] == "CREATE TABLE"
    lost_races = 0
    for phase, days in PHASES.items():
        commits = [writers[i][phase] for i in range(WRITERS)]
        assert [c["rows"] for c in commits] == [n for _, n in days.values()], context
        versions = sorted(c["version"] for c in commits)
        assert len(set(versions)) == WRITERS
        read_versions = {history[v][1] for v in versions}
        # all three read the same snapshot (they raced), and landed one after the other
        assert len(read_versions) == 1, history
        (read_version,) = read_versions
        assert versions == list(range(read_version + 1, read_version + 1 + WRITERS)), history
        assert all(history[v][0] == "WRITE" for v in versions)
        assert sorted(history[v][2].split(":")[2] for v in versions) == sorted(
            f"ds = '{ds}'" for ds, _ in days.values())
        lost_races += sum(v - read_version - 1 for v in versions)  # 1 + 2 = 3 per phase
    assert sorted(history) == list(range(1 + WRITERS * len(PHASES)))
    assert run["log_files"] == sorted(history)  # no commit file beyond the history
    return {"seconds": run["seconds"], "commits": len(history), "commit_races_lost": lost_races}


def _summary(run: dict, append_rounds: int) -> dict:
    """What one demonstration run lost."""
    writers = run["writers"]
    verify = writers[0].get("verify", {})
    put = [w.get("put", {}).get("outcomes", []) for w in writers]
    winners = [sum(o[k] == "won" for o in put if len(o) > k) for k in range(len(put[0]))]
    return {
        "exit_codes": run["codes"],
        "put_rounds": len(winners),
        "put_rounds_with_several_winners": sum(n > 1 for n in winners),
        "put_winners_beyond_one": sum(max(n - 1, 0) for n in winners),
        "appends": WRITERS * append_rounds,
        "append_rows_present": verify.get("appended_rows"),
        "append_commits_present": (verify["append_commits"] - 1) if "append_commits" in verify
        else None,  # minus the creating commit
        "seconds": run["seconds"],
    }


def main() -> None:
    """Race the writers with a given log store and print what was lost."""
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logstore", default=None, help="log store class (default: spark_conf's)")
    parser.add_argument("--put-rounds", type=int, default=20)
    parser.add_argument("--append-rounds", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from include.settings import load_settings
    from include.storage import s3_client

    bucket = f"multi-driver-demo-{uuid.uuid4().hex[:8]}"
    os.environ["LAKEHOUSE_WAREHOUSE_ROOT"] = f"s3a://{bucket}/wh"
    settings = load_settings()
    s3_client(settings).create_bucket(Bucket=bucket)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run = run_race(settings, Path(tmp), args.logstore, args.put_rounds, {},
                           args.append_rounds)  # fmt: skip
    finally:
        _drop_bucket(settings, bucket)
    print(json.dumps({"logstore": args.logstore or "spark_conf's",
                      **_summary(run, args.append_rounds)}), flush=True)  # fmt: skip
    if any(run["codes"]):
        print("\n----\n".join(run["logs"]))


if __name__ == "__main__":
    main()
