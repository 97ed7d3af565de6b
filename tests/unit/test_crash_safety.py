"""Crash safety through the Spark Connect server: a task killed in the middle of a write, the
server killed in the middle of one, and the object store going away in the middle of one.

A writer process is what an Airflow task is: a Spark Connect client with a guarded session
(``include.engine.guarded_session``) that replaces one partition of a Delta table through
``include.tables.write_partition``, the writer every job uses. Its data takes a while (16
tasks that each sleep, on the server's local[2]), so data files appear one by one before the
commit. Each fault is injected as soon as the first new data file shows up:

* **the task killed** (SIGKILL of the writer's whole process group, as the OOM killer or a
  lost worker would): the server does not notice a client that died during a command, so
  the session's guard (a process of its own) interrupts what the session still runs. The
  write stops: no new data file appears afterwards and no commit lands, even long after the
  write would have ended.
* **the server killed** (SIGKILL of the Connect server's JVM): the writer fails within
  seconds with an error naming the engine; after the server is back the table is at its
  previous version.
* **the object store stopped** (a MinIO of the test's own, SIGKILL): the writer fails within
  a bounded time with an error naming the connection problem (S3A is set to fail fast,
  include/spark.py); after MinIO is back the table is at its previous version.

Each time the table stays readable at its previous version with exactly the previous content
(the files the dead write left behind are referenced by no commit: Delta ignores them), and
the retry (the same write, run to the end) commits the next version with the new content.

The killed task runs against a local path (unit) and against MinIO through S3A
(integration); the server and store faults use a Connect server of their own (started for
the test, never the demo's), so the tests' shared server is never killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DS = "2024-05-01"
ROWS, TASKS = 40_000, 16

WRITER = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, {root!r})
    from include.contracts import TableContract
    from include.engine import ConnectTarget, guarded_session
    from include.settings import load_settings
    from include.tables import write_partition

    settings = load_settings()
    contract = TableContract(
        name="crash_probe", layer="silver", primary_key=("id",),
        ddl="id BIGINT, payload STRING, ds STRING", description="crash-safety probe")
    generation, slow = sys.argv[1], float(sys.argv[2])

    def rows(batches):
        for batch in batches:
            time.sleep(slow)  # the work a real job does before its files are written
            batch["payload"] = generation + ":" + batch["id"].astype(str)
            batch["ds"] = {ds!r}
            yield batch[["id", "payload", "ds"]]

    with guarded_session(ConnectTarget.from_settings(settings), tags=("crash-probe",)) as spark:
        df = (spark.range(0, {rows}, numPartitions={tasks})
              .mapInPandas(rows, "id BIGINT, payload STRING, ds STRING"))
        print("WRITER_STARTED", flush=True)
        out = write_partition(spark, df, contract, {ds!r}, settings)
        print("WRITER_DONE " + json.dumps(out), flush=True)
    """
).format(root=str(ROOT), ds=DS, rows=ROWS, tasks=TASKS)


def _contract():
    from include.contracts import TableContract

    return TableContract(
        name="crash_probe", layer="silver", primary_key=("id",),
        ddl="id BIGINT, payload STRING, ds STRING", description="crash-safety probe",
    )


def _server_env(server, **extra) -> dict:
    """The environment of a writer that is a client of ``server``."""
    return {**os.environ, "LAKEHOUSE_CONNECT_HOST": server.host,
            "LAKEHOUSE_CONNECT_PORT": str(server.port),
            "LAKEHOUSE_CONNECT_TOKEN": server.token, **extra}  # fmt: skip


def _run_writer(env: dict, generation: str, slow: float, kill_on_first_file=None, fault=None):
    """Run the writer; with ``kill_on_first_file`` (a callable listing data files), inject
    the fault as soon as that list grows: ``fault()`` if given, else SIGKILL the writer's
    process group. Returns (returncode, output, new files seen at the fault)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, generation, str(slow)], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    killed = None
    if kill_on_first_file is not None:
        before = set(kill_on_first_file())
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            new = set(kill_on_first_file()) - before
            if new:
                if fault is None:
                    os.killpg(proc.pid, signal.SIGKILL)  # the task's whole process group
                else:
                    fault()
                killed = sorted(new)
                break
            time.sleep(0.05)
    try:
        out, _ = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, out, killed


def _files(location: str, settings) -> list[str]:
    """Data files under the table's partition directory (not the log)."""
    from include.storage import is_s3_uri, list_keys

    part = f"{location}/ds={DS}/"
    if is_s3_uri(location):
        return [k for k in list_keys(part, settings) if k.endswith(".parquet")]
    path = Path(part)
    return [str(p) for p in path.rglob("*.parquet")] if path.exists() else []


def _state(spark, settings):
    from include.tables import read_table, table_version

    contract = _contract()
    df = read_table(spark, contract, settings)
    rows = df.where(f"ds = '{DS}'").selectExpr("count(*) n", "min(payload) lo",
                                               "max(payload) hi").first()
    generations = {r[0] for r in df.selectExpr("split(payload, ':')[0]").distinct().collect()}
    return table_version(spark, contract, settings), rows.n, generations


def _first_generation(spark, settings, env):
    """Generation A: a complete, committed partition; returns its version."""
    code, out, _ = _run_writer(env, "A", 0.0)
    assert code == 0 and "WRITER_DONE" in out, out[-3000:]
    version_a, n_a, gens_a = _state(spark, settings)
    assert (n_a, gens_a) == (ROWS, {"A"})
    return version_a


def _retry(spark, settings, env, version_a):
    """The retry completes: the next version, all of generation B, nothing of A left."""
    code, out, _ = _run_writer(env, "B", 0.0)
    assert code == 0 and "WRITER_DONE" in out, out[-3000:]
    done = json.loads(out.split("WRITER_DONE ", 1)[1].splitlines()[0])
    assert done == {"rows": ROWS, "version": version_a + 1}
    assert _state(spark, settings) == (version_a + 1, ROWS, {"B"})


# The killed write: 16 tasks of SLOW seconds on 2 cores would end about 8 * SLOW seconds after
# its first file. Watching for twice that long shows the write stopped, not merely slow.
SLOW = 2.0
WATCH_S = 8 * SLOW * 2


def _kill_task_and_retry(spark, settings, env):
    from include.tables import table_location

    location = table_location(_contract(), settings)
    version_a = _first_generation(spark, settings, env)
    files_a = set(_files(location, settings))

    # generation B: the task killed (SIGKILL, process group) as soon as its first file lands
    code, out, killed = _run_writer(env, "B", SLOW, lambda: _files(location, settings))
    assert killed, f"the writer ended before any file appeared: {out[-3000:]}"
    assert code == -signal.SIGKILL and "WRITER_DONE" not in out, (code, out[-3000:])
    # the guard interrupts the session: the server stops writing (within a few seconds: the
    # files of tasks already running may still land) and never commits
    seen, quiet_since, deadline = set(), time.monotonic(), time.monotonic() + WATCH_S
    while time.monotonic() < deadline:
        now = set(_files(location, settings)) - files_a
        if now != seen:
            seen, quiet_since = now, time.monotonic()
        time.sleep(0.25)
    assert time.monotonic() - quiet_since >= WATCH_S - 8, "the server went on writing"
    assert len(seen) < TASKS, f"all {TASKS} files were written: the write was not stopped"
    assert set(killed) <= seen  # the dead writer's files are there...
    version, n, gens = _state(spark, settings)
    assert (version, n, gens) == (version_a, ROWS, {"A"})  # ...and ignored: previous version

    _retry(spark, settings, env, version_a)
    return {"files_seen_at_kill": len(killed), "orphan_files": len(seen),
            "version_before": version_a, "version_after_retry": version_a + 1}


@pytest.mark.slow
def test_killed_task_leaves_previous_version_local(spark, lakehouse_env, engine_server):
    env = _server_env(engine_server)  # lakehouse_env has set the warehouse to a temp dir
    print(_kill_task_and_retry(spark, lakehouse_env, env))


def _minio_prefix(monkeypatch, prefix: str):
    from include.settings import load_settings
    from include.storage import delete_prefix, ensure_buckets

    subprocess.run([str(ROOT / "scripts" / "services.sh"), "start-storage"], check=True,
                   capture_output=True)  # fmt: skip
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", f"s3a://warehouse/{prefix}")
    monkeypatch.setenv("LAKEHOUSE_METASTORE", "false")
    settings = load_settings()
    ensure_buckets(settings)
    delete_prefix(f"s3a://warehouse/{prefix}/", settings)
    return settings


@pytest.mark.integration
def test_killed_task_leaves_previous_version_on_minio(spark, monkeypatch, engine_server):
    from include.storage import delete_prefix

    settings = _minio_prefix(monkeypatch, "crash-test")
    try:
        print(_kill_task_and_retry(spark, settings, _server_env(engine_server)))
    finally:
        delete_prefix("s3a://warehouse/crash-test/", settings)


def _own_server(tmp_path, name: str, conf: dict | None = None):
    from tests.conftest import start_test_server

    return start_test_server(tmp_path / name, name=name, memory="1g", conf=conf, ui=False)


# A dead engine fails the writer within the client's retry budget (include/engine.py, about
# 15 s) plus the time to notice; a dead object store within S3A's fail-fast settings.
ENGINE_LOST_BOUND_S = 60
FAIL_FAST_BOUND_S = 240


@pytest.mark.integration
def test_server_killed_mid_write_leaves_previous_version(monkeypatch, tmp_path):
    from include.engine import connect_session
    from include.storage import delete_prefix
    from include.tables import table_location

    settings = _minio_prefix(monkeypatch, "server-crash-test")
    server = _own_server(tmp_path, "crash-connect")
    try:
        env = _server_env(server)
        spark = connect_session(server.target)
        location = table_location(_contract(), settings)
        version_a = _first_generation(spark, settings, env)

        started = time.monotonic()
        code, out, seen = _run_writer(
            env, "B", 1.5, lambda: _files(location, settings), fault=server.kill
        )
        failed_after = time.monotonic() - started
        assert seen, f"the writer ended before any file appeared: {out[-3000:]}"
        assert code not in (0, None) and "WRITER_DONE" not in out, (code, out[-3000:])
        assert failed_after < ENGINE_LOST_BOUND_S, (failed_after, out[-3000:])
        # the task's error says which engine it lost
        assert "lost the Spark engine" in out and f":{server.port})" in out, out[-3000:]

        server.start()  # the engine is back: nothing half-written is visible
        spark = connect_session(server.target)
        assert _state(spark, settings) == (version_a, ROWS, {"A"})
        _retry(spark, settings, env, version_a)
        spark.stop()
        print({"writer_failed_after_s": round(failed_after, 1), "exit_code": code})
    finally:
        server.stop()
        delete_prefix("s3a://warehouse/server-crash-test/", settings)


class _OwnMinio:
    """A MinIO server of the test's own (the shared one is never stopped)."""

    def __init__(self, data: Path, port: int, settings):
        self.data, self.port, self.settings, self.proc = data, port, settings, None
        self.endpoint = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        import urllib.request

        from include.engine_server import free_port

        env = {**os.environ, "MINIO_ROOT_USER": self.settings.s3_access_key,
               "MINIO_ROOT_PASSWORD": self.settings.s3_secret_key, "MINIO_BROWSER": "off"}
        binary = Path(os.environ["LAKEHOUSE_STATE_DIR"]) / "bin" / "minio"
        self.proc = subprocess.Popen(
            [str(binary), "server", str(self.data), "--address", f"127.0.0.1:{self.port}",
             "--console-address", f"127.0.0.1:{free_port()}", "--quiet"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.endpoint}/minio/health/live", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"MinIO on port {self.port} did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.mark.integration
def test_object_store_outage_mid_write_then_retry(monkeypatch, tmp_path):
    from include.engine import connect_session
    from include.engine_server import free_port
    from include.settings import load_settings
    from include.storage import s3_client
    from include.tables import table_location

    subprocess.run([str(ROOT / "scripts" / "services.sh"), "start-storage"], check=True,
                   capture_output=True)  # for the binary and the credentials
    port, bucket = free_port(), "outage-test"
    minio = _OwnMinio(tmp_path / "minio", port, load_settings())
    minio.start()
    server = None
    try:
        monkeypatch.setenv("LAKEHOUSE_S3_ENDPOINT", minio.endpoint)
        monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_ROOT", f"s3a://{bucket}/wh")
        monkeypatch.setenv("LAKEHOUSE_METASTORE", "false")
        settings = load_settings()
        s3_client(settings).create_bucket(Bucket=bucket)
        # an engine whose object store is this MinIO (rendered from the settings above)
        server = _own_server(tmp_path, "outage-connect")
        spark = connect_session(server.target)
        env = _server_env(server)
        location = table_location(_contract(), settings)
        version_a = _first_generation(spark, settings, env)

        started = time.monotonic()
        code, out, seen = _run_writer(
            env, "B", 1.5, lambda: _files(location, settings), fault=minio.kill
        )
        failed_after = time.monotonic() - started
        assert seen, f"the writer ended before any file appeared: {out[-3000:]}"
        # the write up to the fault + 3 attempts of 5 s connects: well under 4 minutes on 2
        # busy cores; S3A's default retry policy would keep it going for many minutes (the
        # bound is what the fail-fast settings in include/spark.py buy)
        assert failed_after < FAIL_FAST_BOUND_S, (failed_after, out[-3000:])
        assert code not in (0, None) and "WRITER_DONE" not in out, (code, out[-3000:])
        clear = ("Connection refused", "ConnectException", "Unable to execute HTTP request",
                 "connect timed out")
        assert any(c in out for c in clear), out[-5000:]
        error = next(line for line in out.splitlines() if any(c in line for c in clear))
        failed = {"writer_failed_after_s": round(failed_after, 1), "exit_code": code,
                  "error": error.strip()[:200]}

        minio.start()  # the store is back: nothing half-written is visible
        assert _state(spark, settings) == (version_a, ROWS, {"A"})
        _retry(spark, settings, env, version_a)
        spark.stop()
        print(failed)
    finally:
        if server is not None:
            server.stop()
        if minio.proc and minio.proc.poll() is None:
            minio.kill()
