"""One writer of ``test_multi_driver_commits.py``: a process of its own, racing the other
writers at file barriers the test releases. ``engine`` ``submit``: its own JVM and
SparkSession (``include.spark.build_spark``, what a spark-submit'ed job builds); ``connect``:
a Spark Connect session on the server of ``LAKEHOUSE_CONNECT_*`` (what an Airflow task opens),
so the writers are sessions of one shared driver.

    python multi_driver_writer.py SPEC_JSON

Phases, in order (each starts at a barrier ``<phase>``):

* ``put.K`` (K < put_rounds, ``submit`` only: it calls the log store in the JVM): the
  configured Delta log store's ``write(path, overwrite=false)`` of one shared path per round;
* each table phase: ``include.tables.write_partition`` of its own ``ds``; the rows are
  produced by a task that waits at the barrier ``<phase>.data``, so every writer has read the
  table's snapshot (started its transaction) before any of them can commit;
* ``append.K`` (K < append_rounds, for the demonstration only): a one-row blind append to a
  second table;
* ``verify`` (writer 0 only, once every writer is done): the tables read back, and the history.

Prints one ``RESULT {json}`` line per phase.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CONTRACT_ARGS = dict(
    name="multi_driver_probe", layer="silver", primary_key=("id", "ds"),
    ddl="id BIGINT, writer STRING, ds STRING", description="multi-driver commit probe",
)  # fmt: skip


def barrier(flags: str, name: str, index: int, wait: bool = True, timeout: float = 400) -> None:
    Path(flags, f"{name}.ready.{index}").touch()
    go = Path(flags, f"{name}.go")
    deadline = time.monotonic() + timeout
    while wait and not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"barrier {name} never opened")
        time.sleep(0.005)


def report(phase: str, **fields) -> None:
    print("RESULT " + json.dumps({"phase": phase, **fields}), flush=True)


def _jvm_object(spark, dotted: str):
    obj = spark._jvm
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def put_race(spark, spec: dict) -> None:
    from py4j.protocol import Py4JJavaError

    jvm, index = spark._jvm, spec["index"]
    hconf = spark._jsc.hadoopConfiguration()
    store_class = spark.conf.get("spark.delta.logStore.s3a.impl")
    store = _jvm_object(spark, store_class)(hconf)
    outcomes = []
    for k in range(spec["put_rounds"]):
        lines = jvm.java.util.ArrayList()
        lines.add(json.dumps({"writer": index}))
        path = jvm.org.apache.hadoop.fs.Path(spec["race_path"].format(k))
        barrier(spec["flags"], f"put.{k}", index)
        try:
            store.write(path, lines.iterator(), False, hconf)
            outcomes.append("won")
        except Py4JJavaError as exc:
            outcomes.append(exc.java_exception.getClass().getName())
    report("put", store=store_class, outcomes=outcomes)


def append_rounds(spark, spec: dict, location: str) -> None:
    for k in range(spec["append_rounds"]):
        df = spark.createDataFrame([(spec["index"], k)], "writer INT, round INT")
        barrier(spec["flags"], f"append.{k}", spec["index"])
        df.write.format("delta").mode("append").save(location)
    report("appends", rounds=spec["append_rounds"])


def table_phase(spark, spec: dict, phase: dict, contract, settings) -> None:
    from py4j.protocol import Py4JError

    from include.tables import table_location, write_partition

    flags, index, ds = spec["flags"], spec["index"], phase["ds"]
    data_barrier = f"{phase['name']}.data"

    def rows(batches):
        barrier(flags, data_barrier, index)  # in the task: the transaction has started
        for batch in batches:
            batch["writer"] = f"w{index}"
            batch["ds"] = ds
            yield batch[["id", "writer", "ds"]]

    df = spark.range(0, phase["rows"], numPartitions=1).mapInPandas(
        rows, "id BIGINT, writer STRING, ds STRING"
    )
    barrier(flags, phase["name"], index)
    out = write_partition(spark, df, contract, ds, settings)
    if spec["engine"] == "connect":  # the server's configured store (no JVM to ask here)
        store = spark.conf.get("spark.delta.logStore.s3a.impl")
        report(phase["name"], ds=ds, delta_log_store=store, **out)
        return
    location = table_location(contract, settings)
    jvm = spark._jvm
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, location)
    # the log store Delta resolved for the table's scheme (a Java one sits in an adaptor)
    store = delta_log.store().getDelegate(jvm.org.apache.hadoop.fs.Path(location))
    try:
        store = store.logStoreImpl()
    except Py4JError:  # a Scala log store, not adapted
        pass
    report(phase["name"], ds=ds, delta_log_store=store.getClass().getName(), **out)


def _history(spark, location: str):
    from include.tables import delta_ref

    return spark.sql(f"DESCRIBE HISTORY {delta_ref(location)}")


def verify(spark, spec: dict, contract, settings) -> None:
    from include.tables import read_table, table_location

    out = {}
    if spec["phases"]:
        counts = read_table(spark, contract, settings).groupBy("ds", "writer").count().collect()
        history = _history(spark, table_location(contract, settings))
        out["counts"] = sorted([r["ds"], r["writer"], r["count"]] for r in counts)
        out["history"] = sorted([r["version"], r["operation"], r["readVersion"],
                                 r["userMetadata"]] for r in history.collect())  # fmt: skip
    if spec["append_rounds"]:
        appended = spark.read.format("delta").load(spec["append_path"])
        out["appended_rows"] = appended.count()
        out["append_commits"] = _history(spark, spec["append_path"]).count()
    report("verify", **out)


def main() -> None:
    spec = json.loads(sys.argv[1])
    from include.settings import load_settings

    settings = load_settings()
    if spec["engine"] == "connect":
        from include.engine import ConnectTarget, guarded_session

        with guarded_session(ConnectTarget.from_settings(settings)) as spark:
            race(spark, spec, settings)
        return
    from include.spark import build_spark

    overrides = {"spark.sql.shuffle.partitions": "1", "spark.default.parallelism": "1",
                 "spark.ui.enabled": "false"}  # fmt: skip
    if spec.get("logstore"):
        overrides["spark.delta.logStore.s3a.impl"] = spec["logstore"]
    spark = build_spark(f"multi-driver-{spec['index']}", settings, metastore=False,
                        overrides=overrides)  # fmt: skip
    race(spark, spec, settings)
    spark.stop()


def race(spark, spec: dict, settings) -> None:
    from include.contracts import TableContract

    contract = TableContract(**CONTRACT_ARGS)
    if spec["append_rounds"] and spec["index"] == 0:  # before any barrier: no creation race
        spark.createDataFrame([], "writer INT, round INT").write.format("delta").save(
            spec["append_path"])
    if spec["engine"] == "submit":
        put_race(spark, spec)
    for phase in spec["phases"]:
        table_phase(spark, spec, phase, contract, settings)
    append_rounds(spark, spec, spec["append_path"])
    barrier(spec["flags"], "verify", spec["index"], wait=spec["index"] == 0)
    if spec["index"] == 0:
        verify(spark, spec, contract, settings)


if __name__ == "__main__":
    main()
