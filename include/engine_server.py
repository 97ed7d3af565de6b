"""The Spark Connect server: the one warm Spark engine every task, the bench and the tests use.

``python -m include.engine_server start|stop|status|health`` (``scripts/services.sh`` calls
it; ``make services``, ``make airflow`` and ``make demo`` start it, ``make stop`` stops it).

The server is ``spark-submit --class org.apache.spark.sql.connect.service.SparkConnectServer``
from the pyspark install, with the lakehouse's Spark configuration: the same
``spark-defaults.conf`` that ``spark-sql``, ``spark-submit`` and the Thrift server read
(``scripts/spark_conf.py``: Delta, the Hive metastore on PostgreSQL, s3a to MinIO, the
conditional-put log store), plus what only the server needs, on its command line (nothing
secret there): the gRPC address and port, the FAIR scheduler, the heap, its UI.

* It listens on 127.0.0.1 only (``spark.connect.grpc.binding.address``); its UI too
  (``SPARK_LOCAL_IP``), on ``LAKEHOUSE_CONNECT_UI_PORT`` (4040).
* It wants a token (``LAKEHOUSE_CONNECT_TOKEN``, generated once into
  ``var/credentials.env``): it holds every credential of the lakehouse, so a client that
  could reach it without one could read and write everything. The token reaches the JVM
  through its environment (``SPARK_CONNECT_AUTHENTICATE_TOKEN``), never its command line.
* Tasks share it through the FAIR scheduler (``conf/spark/fairscheduler.xml``): a small
  task's jobs are not queued behind a big one's.
* pid and log under the state directory: ``var/spark-connect.pid``,
  ``var/logs/spark-connect.log``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from include.engine import ConnectTarget, EngineUnavailable, connect_session
from include.settings import PROJECT_ROOT, Settings, load_settings

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
FAIR_SCHEDULER_FILE = PROJECT_ROOT / "conf" / "spark" / "fairscheduler.xml"
TOKEN_ENV = "SPARK_CONNECT_AUTHENTICATE_TOKEN"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_conf(port: int, host: str = "127.0.0.1", ui_port: int | None = 4040) -> dict:
    """What only the Connect server needs beyond ``spark-defaults.conf`` (nothing secret)."""
    conf = {
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(port),
        # Tasks of one run and of backfill runs share the server: fair shares between the
        # jobs they submit (each task's SQL queries are Spark jobs in the default pool,
        # which the file makes FAIR) instead of first come, first served.
        "spark.scheduler.mode": "FAIR",
        "spark.scheduler.allocation.file": str(FAIR_SCHEDULER_FILE),
        # A client that dies (a task killed with SIGKILL) leaves its running query detached;
        # the server interrupts it after this long without a client re-attaching, rather than
        # the default 5 minutes, so a dead task's write does not commit long after it.
        "spark.connect.execute.manager.detachedTimeout": "30s",
        "spark.connect.execute.manager.maintenanceInterval": "5s",
    }
    if ui_port is None:
        conf["spark.ui.enabled"] = "false"
    else:
        # the server's UI: its Connect tab lists sessions and statements (127.0.0.1 only:
        # SPARK_LOCAL_IP); a taken port is not fatal, Spark tries the next one
        conf.update({"spark.ui.enabled": "true", "spark.ui.port": str(ui_port)})
    return conf


@dataclass
class ConnectServer:
    """One Spark Connect server process: its command, pid file, log, start, health, stop."""

    state_dir: Path
    conf_dir: Path
    port: int
    memory: str
    token: str = field(repr=False)
    host: str = "127.0.0.1"
    name: str = "spark-connect"
    ui_port: int | None = 4040
    extra_conf: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ConnectServer:
        settings = settings or load_settings()
        return cls(
            state_dir=settings.state_dir,
            conf_dir=Path(os.environ.get("SPARK_CONF_DIR", settings.state_dir / "spark-conf")),
            port=settings.connect_port,
            host=settings.connect_host,
            memory=settings.connect_memory,
            token=settings.connect_token,
            ui_port=int(os.environ.get("LAKEHOUSE_CONNECT_UI_PORT") or 4040),
        )

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "logs" / f"{self.name}.log"

    @property
    def target(self) -> ConnectTarget:
        return ConnectTarget(host=self.host, port=self.port, token=self.token,
                             label=f"the {self.name} server")  # fmt: skip

    def command(self) -> list[str]:
        conf = {**server_conf(self.port, self.host, self.ui_port), **self.extra_conf}
        args = [str(spark_home() / "bin" / "spark-submit"), "--class", SERVER_CLASS,
                "--name", self.name, "--driver-memory", self.memory]  # fmt: skip
        for key, value in sorted(conf.items()):
            args += ["--conf", f"{key}={value}"]
        return [*args, "spark-internal"]

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "SPARK_CONF_DIR": str(self.conf_dir),
            "SPARK_LOCAL_IP": self.host,
            TOKEN_ENV: self.token,
            # Python UDFs (none in the jobs today) run in workers of the server's own venv
            "PYSPARK_PYTHON": sys.executable,
            "PYTHONPATH": str(PROJECT_ROOT),
            **self.extra_env,
        }
        env.pop("PYSPARK_GATEWAY_PORT", None)
        return env

    def pid(self) -> int | None:
        """The server's pid if its pid file names a live process, else None."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    def listening(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False

    def healthy(self) -> bool:
        """A session opens with the token and runs a query (not just an open port)."""
        try:
            spark = connect_session(self.target)
        except EngineUnavailable:
            return False
        try:
            return spark.range(1).count() == 1
        finally:
            spark.stop()

    def start(self, timeout: float = 180) -> float:
        """Start the server (a running one of ours is left alone); returns seconds to ready."""
        if not self.token:
            raise EngineUnavailable(
                "LAKEHOUSE_CONNECT_TOKEN is not set: the Spark Connect server holds every "
                "credential of the lakehouse and refuses to start without a token. Run "
                "`make setup` (it generates one into var/credentials.env)"
            )
        if not (self.conf_dir / "spark-defaults.conf").exists():
            raise EngineUnavailable(
                f"{self.conf_dir}/spark-defaults.conf is missing: run scripts/spark_conf.py"
            )
        started = time.monotonic()
        if self.pid() is not None:
            if self.listening():
                return 0.0
        elif self.listening():
            raise EngineUnavailable(
                f"port {self.port} is taken by a process this checkout did not start "
                f"({self.pid_file} names no live server): stop it or set LAKEHOUSE_CONNECT_PORT"
            )
        else:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            log = open(self.log_file, "ab")  # noqa: SIM115  (handed to the child)
            try:
                proc = subprocess.Popen(
                    self.command(), env=self.environment(), cwd=self.state_dir,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stop() ends it whole
                )
            finally:
                log.close()
            self._proc = proc
            self.pid_file.write_text(f"{proc.pid}\n")
        self.wait_ready(timeout, started)
        return round(time.monotonic() - started, 1)

    def wait_ready(self, timeout: float, started: float | None = None) -> None:
        started = started or time.monotonic()
        while time.monotonic() - started < timeout:
            if self.pid() is None:
                raise EngineUnavailable(
                    f"the Spark Connect server exited during start-up; see {self.log_file}:\n"
                    + self.log_tail()
                )
            if self.listening() and self.healthy():
                return
            time.sleep(0.5)
        raise EngineUnavailable(
            f"the Spark Connect server did not answer on {self.host}:{self.port} within "
            f"{timeout:.0f} s; see {self.log_file}:\n" + self.log_tail()
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 30) -> bool:
        """SIGTERM the server's process group, SIGKILL it after ``timeout``; True if it ran."""
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
        self._reap()
        return True

    def kill(self) -> None:
        """SIGKILL, no shutdown (the crash tests)."""
        pid = self.pid()
        if pid is not None:
            _signal_group(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self._reap()

    def _reap(self) -> None:
        proc, self._proc = getattr(self, "_proc", None), None
        if proc is not None:
            proc.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (our child, not reaped yet) is not running
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def new_token() -> str:
    return secrets.token_urlsafe(32)


def start_private_server(state_dir: Path, *, name: str, memory: str,
                         conf: dict[str, str] | None = None, ui: bool = True,
                         settings: Settings | None = None) -> ConnectServer:  # fmt: skip
    """A Spark Connect server of a caller's own (the tests', the benchmark's): a free port, a
    new token, its own rendered configuration (the lakehouse's settings without the shared
    metastore, then ``conf``), pid and log under ``state_dir``; started and healthy.
    The caller stops it."""
    from include.spark import spark_conf, write_spark_defaults

    conf_dir = state_dir / "spark-conf"
    rendered = {
        **spark_conf(settings or load_settings(), metastore=False),
        "spark.sql.warehouse.dir": str(state_dir / "spark-warehouse"),
        **(conf or {}),
    }
    write_spark_defaults(conf_dir, rendered)
    server = ConnectServer(
        state_dir=state_dir, conf_dir=conf_dir, port=free_port(), memory=memory,
        token=new_token(), name=name, ui_port=free_port() if ui else None,
    )
    server.start()
    return server


def _ip_address(text: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IP address: {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The lakehouse's Spark Connect server")
    parser.add_argument("action", choices=["start", "stop", "status", "health", "warm", "run"])
    parser.add_argument(
        "--bind", type=_ip_address,
        help="run: the address to listen on instead of LAKEHOUSE_CONNECT_HOST (in a container "
             "0.0.0.0, its port published on the host's 127.0.0.1 only)")  # fmt: skip
    args = parser.parse_args(argv)
    server = ConnectServer.from_settings()
    where = f"127.0.0.1:{server.port}"
    if args.action == "run":  # in the foreground, as this process (a container's command)
        if args.bind:
            server.host = args.bind
        if not server.token:
            print("error: LAKEHOUSE_CONNECT_TOKEN is not set: the server refuses to run without "
                  "a token", file=sys.stderr)  # fmt: skip
            return 1
        command = server.command()
        os.execvpe(command[0], command, server.environment())
    if args.action == "start":
        try:
            seconds = server.start()
        except EngineUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        state = "already running" if seconds == 0.0 else f"up in {seconds} s"
        print(f"Spark Connect server on {where} {state} (log: {server.log_file})")
        return 0
    if args.action == "stop":
        print("Spark Connect server " + ("stopped" if server.stop() else "was not running"))
        return 0
    if args.action == "status":
        up = server.pid() is not None and server.listening()
        print(f"spark-connect: {'up (' + where + ')' if up else 'down'}")
        return 0 if up else 3
    if args.action == "warm":
        print(f"spark-connect: warmed in {warm_up(server)} s ({where})")
        return 0
    ok = server.healthy()
    print(f"spark-connect: {'healthy' if ok else 'not answering'} ({where})")
    return 0 if ok else 1


def warm_up(server: ConnectServer) -> float:
    """What the first task would otherwise wait for: the metastore client (its first use,
    Hive's classes and a connection to PostgreSQL, took 5.2 s on the build machine) and one
    shuffle with generated code. ``scripts/services.sh start`` runs it in the background
    while Airflow starts; it writes nothing."""
    started = time.monotonic()
    spark = connect_session(server.target, tags=("warm-up",))
    try:
        spark.sql("SHOW DATABASES").collect()
        spark.range(0, 100_000, numPartitions=2).selectExpr("id % 7 AS k").groupBy("k").count(
        ).collect()  # fmt: skip
    finally:
        spark.stop()
    return round(time.monotonic() - started, 1)


if __name__ == "__main__":
    sys.exit(main())
