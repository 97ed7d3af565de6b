"""The Spark engine the jobs run on, seen from a client: a session on the long-lived Spark
Connect server, or (the second mode) a JVM of the job's own.

``LAKEHOUSE_ENGINE`` chooses:

* ``connect`` (default): every Airflow task, ``spark_jobs/run.py`` and the benchmark open a
  Spark Connect session on one warm server (``include/engine_server.py``, started by
  ``make services`` / ``make airflow``). The job's Python runs in the client; the plan runs on
  the server. One session per task, so session settings never leak between tasks running
  side by side; the session is released when the task ends.
* ``submit``: each task is a ``spark-submit`` of ``spark_jobs/run.py`` with a JVM of its own
  (``include/spark.py`` builds that session), for teams that prefer it on a cluster.

Job code is the same for both: it uses the DataFrame API and Delta's SQL only (no
``sparkContext``, ``_jvm``, py4j, Hadoop FileSystem or Python ``DeltaTable`` calls:
``tests/unit/test_engine.py`` checks the sources), and every frame it persists goes through
:func:`keep`, which :func:`release` unpersists when the job ends. On a long-lived server an
unreleased frame would stay cached for good (the server's cache is shared by all sessions).

The server's token is a secret: :class:`ConnectTarget` keeps it out of ``repr`` and every
message names the target by connection id, host and port only.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from include.settings import Settings

ENGINE_ENV = "LAKEHOUSE_ENGINE"
ENGINES = ("connect", "submit")
# The Airflow connection (type ``spark_connect``) the tasks reach the server through;
# scripts/env.sh defines it from LAKEHOUSE_CONNECT_* unless it is set already.
CONNECT_CONN_ID = "spark_connect_lakehouse"
# How long a client waits for the server before the task fails, in seconds: the TCP connect
# of the pre-flight check, then the retries of a call the server did not answer (a server
# that died mid-job). Spark's default client policy retries for at least 10 minutes.
CONNECT_TIMEOUT_S = 3.0
RETRY_BUDGET = {"max_retries": 5, "initial_backoff": 200, "max_backoff": 5000,
                "backoff_multiplier": 4.0}  # fmt: skip  (~15 s in all)


class EngineUnavailable(RuntimeError):
    """The Spark engine cannot be reached or refused the session (the message says which)."""


def engine_mode() -> str:
    """``connect`` or ``submit`` (``LAKEHOUSE_ENGINE``); anything else is a clear error."""
    mode = (os.environ.get(ENGINE_ENV) or "connect").strip().lower()
    if mode not in ENGINES:
        raise ValueError(f"{ENGINE_ENV}={mode!r}: expected one of {', '.join(ENGINES)}")
    return mode


@dataclass(frozen=True)
class ConnectTarget:
    """Where a Spark Connect server listens, and the token it wants (never in ``repr``)."""

    host: str
    port: int
    label: str = CONNECT_CONN_ID
    token: str = field(default="", repr=False)
    use_ssl: bool = False

    def url(self, session_id: str | None = None) -> str:
        """``sc://host:port/;token=...[;session_id=...]``: holds the token, so never log it."""
        host = self.host
        if self.token and not self.use_ssl and host in ("127.0.0.1", "::1"):
            # pyspark sends a token without TLS only to the host named "localhost" (gRPC local
            # credentials); the server listens on the loopback address either way.
            host = "localhost"
        params = []
        if self.token:
            params.append(f"token={quote(self.token, safe='')}")
        if self.use_ssl:
            params.append("use_ssl=true")
        if session_id:
            params.append(f"session_id={session_id}")
        return f"sc://{host}:{self.port}/" + (";" + ";".join(params) if params else "")

    def describe(self) -> str:
        return f"connection '{self.label}' (Spark Connect at {self.host}:{self.port})"

    @classmethod
    def from_url(cls, url: str, label: str = CONNECT_CONN_ID) -> ConnectTarget:
        """Parse ``sc://host:port/;token=...;use_ssl=...`` (what ``SparkConnectHook`` builds)."""
        m = re.fullmatch(r"sc://(\[[^\]]+\]|[^:/;]+)(?::(\d+))?/?(;.*)?", url.strip())
        if not m:
            raise ValueError(f"{label}: not a Spark Connect URL (expected sc://host:port/)")
        host = m.group(1).strip("[]")
        params = dict(
            p.split("=", 1) for p in (m.group(3) or "").split(";") if "=" in p
        )
        return cls(
            host=host,
            port=int(m.group(2) or 15002),
            label=label,
            token=unquote(params.get("token", "")),
            use_ssl=params.get("use_ssl", "").lower() == "true",
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectTarget:
        return cls(
            host=settings.connect_host,
            port=settings.connect_port,
            token=settings.connect_token,
        )


def check_reachable(target: ConnectTarget, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail within ``timeout`` seconds, naming the connection, when nothing listens there."""
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout):
            return
    except OSError as exc:
        raise EngineUnavailable(
            f"the Spark engine is not reachable: {target.describe()}: {exc.strerror or exc}. "
            "Start it with `make services` (or `make airflow`), check it with "
            "`scripts/services.sh status`; its log is var/logs/spark-connect.log"
        ) from exc


def _tag(text: str) -> str:
    """A Spark job tag (no commas, non-empty, short) from any text."""
    return re.sub(r"[^A-Za-z0-9_.:=-]+", "_", text)[:120] or "_"


def connect_session(target: ConnectTarget, *, tags: tuple[str, ...] = (),
                    session_id: str | None = None) -> SparkSession:  # fmt: skip
    """A new Spark Connect session on ``target`` (its own session id, ``session_id`` or a
    random one: nothing set in it is seen by another task), checked with one round trip,
    tagged with ``tags`` (the server's UI shows them)."""
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.client.retries import DefaultPolicy

    check_reachable(target)
    spark = SparkSession.builder.remote(target.url(session_id)).create()
    spark.client.set_retry_policies([DefaultPolicy(**RETRY_BUDGET)])
    try:
        spark.version  # noqa: B018  (one round trip: the token is checked here)
    except Exception as exc:
        spark.stop()
        status = "UNAUTHENTICATED" if "UNAUTHENTICATED" in str(exc) else type(exc).__name__
        hint = (" (wrong or missing token: the connection's password must be the server's "
                "LAKEHOUSE_CONNECT_TOKEN)" if status == "UNAUTHENTICATED" else "")
        raise EngineUnavailable(
            f"the Spark engine refused the session: {target.describe()}: {status}{hint}"
        ) from None
    for tag in tags:
        spark.addTag(_tag(tag))
    return spark


class _ReleasedAfterClose(logging.Filter):
    """pyspark releases a finished query on a background thread; when the session is stopped
    first (every task's last query), that release finds the session closed and pyspark logs
    a warning per query although nothing is wrong: the session's release freed it already."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("ReleaseExecute failed") and "SESSION_CLOSED" in message)


logging.getLogger("pyspark.sql.connect.logging").addFilter(_ReleasedAfterClose())


@contextmanager
def guarded_session(target: ConnectTarget, *, tags: tuple[str, ...] = ()):
    """A task's session: a new Connect session with its guard (see below), released and the
    guard stood down when the block ends, however it ends."""
    import uuid

    session_id = str(uuid.uuid4())
    spark = connect_session(target, tags=tags, session_id=session_id)
    guard = None
    try:
        guard = start_guard(target, session_id)
        yield spark
    except Exception as exc:
        if engine_lost(exc):  # say which engine went away, not only gRPC's status
            raise EngineUnavailable(
                f"lost the Spark engine in the middle of the task: {target.describe()} "
                f"stopped answering ({_first_line(exc)}); nothing this task wrote since its "
                "last commit is visible. Check `scripts/services.sh status` and "
                "var/logs/spark-connect.log, then retry the task"
            ) from exc
        raise
    finally:
        try:
            spark.stop()
        finally:
            stop_guard(guard)


def engine_lost(exc: BaseException) -> bool:
    """Did a Connect call fail because the server went away (not because of the query)?"""
    text = f"{type(exc).__name__}: {exc}"
    return ("StatusCode.UNAVAILABLE" in text or "Connection refused" in text
            or "Socket closed" in text) and any(
        m in type(exc).__module__ for m in ("connect", "grpc"))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def to_pandas(df: DataFrame):
    """``df.toPandas()`` without what Spark Connect attaches to the result's ``attrs`` (the
    query's plan metrics objects): pandas writes ``attrs`` into Parquet metadata as JSON,
    which those objects are not, and nothing downstream wants them."""
    out = df.toPandas()
    out.attrs.clear()
    return out


def is_connect(spark) -> bool:
    """Is ``spark`` a Spark Connect session (rather than a session with a JVM in-process)?"""
    return type(spark).__module__.startswith("pyspark.sql.connect")


# Frames persisted by the running job, unpersisted by release() when it ends (run.py).
_KEPT: list[DataFrame] = []


def keep(df: DataFrame, storage_level=None) -> DataFrame:
    """``df.persist()``, remembered so that :func:`release` unpersists it when the job ends.

    Jobs persist a frame they read several times (a day's parsed lines, a labelled day).
    A JVM per job dropped them with the JVM; the Connect server lives on and caches by plan
    for every session, so a frame nobody unpersists would hold memory until it restarts.
    """
    kept = df.persist(storage_level) if storage_level is not None else df.persist()
    _KEPT.append(kept)
    return kept


def release() -> int:
    """Unpersist every frame :func:`keep` persisted since the last call; returns how many."""
    released = 0
    while _KEPT:
        df = _KEPT.pop()
        try:
            df.unpersist()
            released += 1
        except Exception:  # the session is gone (server restarted): nothing is cached there
            pass
    return released


def interrupt(spark) -> None:
    """Cancel everything ``spark``'s session is running (an Airflow task being killed)."""
    if spark is not None and is_connect(spark):
        spark.interruptAll()


# ----------------------------------------------------------------------------- the guard
# A Connect server does not notice that a client died while a command runs: a task killed
# with SIGKILL (the OOM killer, a lost worker, a killed process group) would leave its write
# running on the server and committing minutes later, beside the task's retry. SIGTERM is
# handled in the task (on_kill -> interrupt). For the rest, each task session has a guard:
# a small process of its own (own process group, so a signal to the task's group spares it)
# that waits for the task process to end. If the task ends without standing the guard down,
# the guard attaches to the task's session (same session id and token) and interrupts
# everything it runs, then releases it: the dead task's write stops before it commits.


def start_guard(target: ConnectTarget, session_id: str):
    """Start the guard of ``session_id`` for this process; :func:`stop_guard` stands it down."""
    import json
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "include.engine", "guard"],
        stdin=subprocess.PIPE, start_new_session=True,
        cwd=str(Path(__file__).resolve().parent.parent),
        env={k: v for k, v in os.environ.items() if k != "SPARK_CONNECT_MODE_ENABLED"},
    )
    # the token goes through a pipe, not the guard's argv (readable by any local user)
    proc.stdin.write(json.dumps({"parent": os.getpid(), "session_id": session_id,
                                 "host": target.host, "port": target.port,
                                 "token": target.token, "use_ssl": target.use_ssl,
                                 "label": target.label}).encode())  # fmt: skip
    proc.stdin.close()
    return proc


def stop_guard(proc) -> None:
    """Stand the guard down: the task ended on its own (its session is released)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except Exception:
        proc.kill()


def _guard_main() -> int:
    import json
    import signal
    import sys
    import time

    spec = json.loads(sys.stdin.read())
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # stood down: nothing to do
    parent = int(spec["parent"])
    while os.getppid() == parent:
        time.sleep(0.2)
    # the task process is gone and never stood the guard down: stop what it left running
    target = ConnectTarget(host=spec["host"], port=int(spec["port"]), token=spec["token"],
                           use_ssl=spec["use_ssl"], label=spec["label"])  # fmt: skip
    try:
        spark = connect_session(target, session_id=spec["session_id"])
    except EngineUnavailable:
        return 0  # the server is gone too: nothing runs there any more
    try:
        interrupted = spark.interruptAll()
        print(f"engine guard: task process {parent} died; interrupted {len(interrupted)} "
              f"operation(s) of its Spark Connect session", file=sys.stderr)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["guard"]:
        raise SystemExit("usage: python -m include.engine guard  (started by start_guard)")
    sys.exit(_guard_main())
