"""Locked down (issue 31): nothing the project starts listens beyond the machine, and JDBC
needs a login, the analyst's reaching silver and gold only.

The test starts the stack the way ``make services``, ``make airflow`` and ``make thrift`` do
(PostgreSQL, MinIO and its console, the Spark Connect server and its UI, Airflow's API
server, scheduler and DAG processor, the Spark Thrift server), in a state directory of its
own: its own credentials, PostgreSQL cluster, MinIO data and free ports, never the demo's or
the other tests' services. It lists the listening sockets of every process it started and
of their children, and fails on any address but 127.0.0.1; it also fails when a service it
started is not among them (a check that found nothing would pass). Then it logs in to the
Thrift server with beeline: without a password, with a wrong one, as the platform team
(``lakehouse``: creates a bronze and a gold table) and as ``analyst`` (gold answers; bronze,
a subquery on bronze and writes are refused); a read by path is refused for both logins.
Last, the analyst's first queries on an experiment-to-date table: the ``_current`` view
holds the newest state, and ``DESCRIBE TABLE EXTENDED`` shows every column's comment.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]
# what the stack needs from set-up and does not write: the MinIO binary, the jars
SHARED = ("bin", "jars", "jvm.classpath", "jvm-build")


def _credentials() -> str:
    token = secrets.token_urlsafe
    pg = token(18)
    return "".join(f"{k}={v}\n" for k, v in {
        "LAKEHOUSE_S3_ACCESS_KEY": f"listeners-{secrets.token_hex(4)}",
        "LAKEHOUSE_S3_SECRET_KEY": token(24), "LAKEHOUSE_PG_PASSWORD": pg,
        "LAKEHOUSE_METASTORE_PASSWORD": pg, "AIRFLOW__API_AUTH__JWT_SECRET": token(32),
        "LAKEHOUSE_PSEUDONYM_KEY": token(32), "LAKEHOUSE_CONNECT_TOKEN": token(32),
        "LAKEHOUSE_JDBC_ANALYST_PASSWORD": token(18), "LAKEHOUSE_JDBC_ADMIN_PASSWORD": token(18),
    }.items())  # fmt: skip


@pytest.fixture(scope="module")
def stack():
    """The whole stack on free ports in a state directory of its own; yields the ports."""
    from include.engine_server import free_port

    main_state = Path(os.environ.get("LAKEHOUSE_STATE_DIR") or ROOT / "var")
    # under var/, not /tmp/pytest-of-root (mode 700): initdb runs as the postgres user
    state = Path(tempfile.mkdtemp(prefix="tests-listeners-", dir=main_state))
    state.chmod(0o755)
    for name in SHARED:
        if (main_state / name).exists():
            (state / name).symlink_to(main_state / name)
    (state / "credentials.env").write_text(_credentials())
    (state / "credentials.env").chmod(0o600)
    ports = {name: free_port() for name in (
        "LAKEHOUSE_PG_PORT", "minio", "LAKEHOUSE_MINIO_CONSOLE_PORT", "LAKEHOUSE_AIRFLOW_PORT",
        "LAKEHOUSE_THRIFT_PORT", "LAKEHOUSE_CONNECT_PORT", "LAKEHOUSE_CONNECT_UI_PORT",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT")}  # fmt: skip
    # scripts/env.sh derives everything else from these (nothing inherited from this
    # process's environment, which points at the tests' own services)
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
           "LAKEHOUSE_STATE_DIR": str(state), "LAKEHOUSE_VENV": str(ROOT / ".venv"),
           "LAKEHOUSE_S3_ENDPOINT": f"http://127.0.0.1:{ports['minio']}",
           "LAKEHOUSE_SPARK_UI": "true", "LAKEHOUSE_CONNECT_MEMORY": "1g",
           **{k: str(v) for k, v in ports.items() if k != "minio"}}  # fmt: skip

    def run(*args: str, timeout: float = 300) -> None:
        done = subprocess.run(["bash", "-c", ". scripts/env.sh && " + " ".join(args)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=timeout)  # fmt: skip
        assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])

    try:
        # what make setup, then make services do: PostgreSQL (initdb), MinIO, buckets, the
        # metastore's schema (before any Spark session opens the metastore), the engine
        run("scripts/services.sh start-storage")
        run("python scripts/init_metastore.py")
        run("scripts/services.sh start")
        run("airflow db migrate")
        run("scripts/airflow.sh start")
        run("scripts/thrift.sh start")
        yield state, ports, run
    finally:
        for command in ("scripts/thrift.sh stop", "scripts/airflow.sh stop",
                        "scripts/services.sh stop"):  # fmt: skip
            subprocess.run(["bash", "-c", ". scripts/env.sh && " + command], cwd=ROOT, env=env,
                           capture_output=True, timeout=120)  # fmt: skip
        shutil.rmtree(state, ignore_errors=True)


def _started(state: Path) -> list[psutil.Process]:
    """The processes the scripts started (their pid files) and all their children."""
    pid_files = [*state.glob("*.pid"), state / "pg" / "data" / "postmaster.pid"]
    procs = []
    for pid_file in pid_files:
        pid = int(pid_file.read_text().split()[0])
        parent = psutil.Process(pid)
        procs += [parent, *parent.children(recursive=True)]
    return procs


def _loopback(address: str) -> bool:
    """127.0.0.1 as the JVMs show it on a dual-stack socket (::ffff:127.0.0.1), and the IPv6
    loopback MinIO adds beside its 127.0.0.1 (it binds [::1] for the same port): never beyond
    the machine. 0.0.0.0, :: or an interface's address are not."""
    import ipaddress

    ip = ipaddress.ip_address(address.split("%")[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def test_every_listener_of_the_stack_is_on_the_loopback(stack):
    import time

    state, ports, _ = stack
    listening: dict[int, set[tuple[str, str]]] = {}
    deadline = time.monotonic() + 60  # the scheduler's health server starts after it
    while time.monotonic() < deadline:
        listening.clear()
        for proc in _started(state):
            try:
                sockets = proc.net_connections(kind="inet")
            except psutil.NoSuchProcess:
                continue
            for s in sockets:
                if s.status == psutil.CONN_LISTEN:
                    listening.setdefault(s.laddr.port, set()).add((s.laddr.ip, proc.name()))
        if ports["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] in listening:
            break
        time.sleep(2)
    print({port: sorted(who) for port, who in sorted(listening.items())})

    beyond = {port: who for port, who in listening.items()
              if any(not _loopback(ip) for ip, _ in who)}  # fmt: skip
    assert not beyond, f"listening beyond the loopback interface: {beyond}"
    missing = sorted(name for name, port in ports.items() if port not in listening)
    assert not missing, f"not listening (so not checked): {missing}; seen {listening}"
    assert 8793 not in listening, "the scheduler's log server (0.0.0.0 and [::]) runs"


def test_no_log_of_the_stack_holds_a_password(stack):
    """Airflow's auth manager prints each password it generates to the API server's log:
    scripts/airflow.sh generates the UI password into the passwords file before the server
    starts, so the server has nothing to generate and nothing is printed. Every secret of
    the stack (credentials.env and the UI password) is looked for in every log it wrote."""
    import json

    state, _, _ = stack
    ui = json.loads((state / "airflow" / "passwords.json").read_text())
    assert set(ui) == {"admin"} and len(ui["admin"]) >= 16
    assert (state / "airflow" / "passwords.json").stat().st_mode & 0o077 == 0
    secrets = {"airflow ui admin": ui["admin"]}
    for line in (state / "credentials.env").read_text().splitlines():
        name, _, value = line.partition("=")
        if value and not line.startswith("#"):
            secrets[name.removeprefix("export ").strip()] = value.strip().strip("'\"")
    logs = [p for p in state.rglob("*") if p.is_file() and (p.suffix == ".log" or "log" in p.parts)]
    assert any(p.name == "airflow-api-server.log" for p in logs), logs
    leaked = sorted(
        f"{name} in {p.relative_to(state)}"
        for p in logs for name, value in secrets.items()
        if len(value) >= 8 and value in p.read_text(errors="replace")
    )  # fmt: skip
    assert not leaked, leaked
    assert "Password for user" not in (state / "logs" / "airflow-api-server.log").read_text()


def _password(state: Path, name: str) -> str:
    for line in (state / "credentials.env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise KeyError(name)


def _beeline(state: Path, port: int, user: str, password: str | None, sql: str,
             force: bool = False):  # fmt: skip
    """beeline (pyspark's) as a JDBC client: (exit code, output). ``force``: go on after a
    failed statement (each failure is printed)."""
    from include.engine_server import spark_home

    args = [str(spark_home() / "bin" / "beeline"), "-u", f"jdbc:hive2://127.0.0.1:{port}/default",
            "-n", user, "--silent=true", "--outputformat=csv2", "--showHeader=false",
            f"--force={str(force).lower()}"]  # fmt: skip
    if password is not None:
        secret = state / "beeline.pw"
        secret.write_text(password)
        secret.chmod(0o600)
        args += ["-w", str(secret)]
    env = {**os.environ, "SPARK_HOME": str(spark_home())}
    env.pop("SPARK_CONF_DIR", None)
    script = state / "beeline.sql"  # -f: --force goes on after a failed statement (-e does not)
    script.write_text(sql.rstrip().rstrip(";") + ";\n")
    done = subprocess.run([*args, "-f", str(script)], capture_output=True, text=True,
                          timeout=180, env=env)  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_jdbc_needs_a_login_and_the_analyst_reads_silver_and_gold_only(stack):
    state, ports, _ = stack
    port = ports["LAKEHOUSE_THRIFT_PORT"]
    analyst = _password(state, "LAKEHOUSE_JDBC_ANALYST_PASSWORD")
    admin = _password(state, "LAKEHOUSE_JDBC_ADMIN_PASSWORD")

    for user, password in (("analyst", None), ("analyst", "not-the-password"),
                           ("lakehouse", analyst)):  # fmt: skip
        code, out = _beeline(state, port, user, password, "SELECT 1")
        assert code != 0 and "Error validating the login" in out, (user, out[-2000:])

    code, out = _beeline(state, port, "lakehouse", admin, ";".join([
        "CREATE DATABASE IF NOT EXISTS bronze", "CREATE DATABASE IF NOT EXISTS gold",
        "CREATE TABLE bronze.visits USING DELTA AS SELECT '203.0.113.7' AS ip, 1 AS id",
        "CREATE TABLE gold.visits USING DELTA AS SELECT 1 AS id, 42 AS n",
        "SELECT ip FROM bronze.visits", "DESCRIBE DETAIL bronze.visits"]))  # fmt: skip
    assert code == 0 and "203.0.113.7" in out, out[-3000:]
    location = re.search(r"s3a://[^,\s]*visits", out).group(0)  # bronze's files

    # values are labelled: beeline's csv2 output may glue a "null" echo line onto a value
    code, out = _beeline(state, port, "analyst", analyst,
                         "SHOW TABLES IN gold; SELECT CONCAT('n=', n * 1000) FROM gold.visits")
    assert code == 0 and "visits" in out and "n=42000" in out, out[:2500]

    refused = {
        "SELECT ip FROM bronze.visits": "database bronze is not open to analysts",
        "SELECT n FROM gold.visits WHERE id IN (SELECT id FROM bronze.visits)":
            "database bronze is not open to analysts",
        "INSERT INTO gold.visits VALUES (2, 7)": "analysts run queries only",
        "DROP TABLE gold.visits": "analysts run queries only",
    }  # fmt: skip
    # one session, every statement tried (--force): each refused, in order, with its reason
    code, out = _beeline(state, port, "analyst", analyst, ";\n".join(refused), force=True)
    # beeline's one "Error: ..." line per failed statement
    denials = re.findall(r"^Error: .*?access denied for the analyst login: ([^\n]*)", out, re.M)
    assert len(denials) == len(refused), (denials, out[:3000])
    for (sql, reason), denial in zip(refused.items(), denials, strict=True):
        assert reason in denial, (sql, denial)
    assert "203.0.113.7" not in out
    # no JDBC login reads a table by its path (bronze's files): off for everyone
    for user, password in (("analyst", analyst), ("lakehouse", admin)):
        code, out = _beeline(state, port, user, password, f"SELECT * FROM delta.`{location}`")
        assert code != 0 and "203.0.113.7" not in out, (user, out[-2000:])
        assert "TABLE_OR_VIEW_NOT_FOUND" in out or "SCHEMA_NOT_FOUND" in out, out[:2000]
    code, out = _beeline(state, port, "lakehouse", admin,
                         "SELECT CONCAT('rows=', COUNT(*)) FROM gold.visits")
    assert code == 0 and "rows=1" in out and "rows=2" not in out, out[-2000:]  # none written


def test_the_analyst_gets_the_current_state_and_the_data_dictionary(stack):
    """gold.user_outcomes written by the engine as a job writes it (tests/e2e/snapshot_rows.py:
    6 rows, pdp_redesign as of two days, other_test as of one). Over JDBC, as the analyst:
    the table has 6 rows, gold.user_outcomes_current the 4 of the newest state per
    experiment, gold.pdp_redesign_outcomes 5 and its _current view 3 (pdp_redesign alone),
    and DESCRIBE TABLE EXTENDED shows the data dictionary's comment of every
    column and the table's note pointing at the view."""
    from include.data_dictionary import column_comment
    from include.table_catalog_experiments import USER_OUTCOMES

    state, ports, run = stack
    run("python tests/e2e/snapshot_rows.py")
    analyst = _password(state, "LAKEHOUSE_JDBC_ANALYST_PASSWORD")
    code, out = _beeline(state, ports["LAKEHOUSE_THRIFT_PORT"], "analyst", analyst, ";\n".join([
        "SELECT CONCAT('all=', COUNT(*)) FROM gold.user_outcomes",
        "SELECT CONCAT('cur=', experiment, '@', ds, '=', COUNT(*)) "
        "FROM gold.user_outcomes_current GROUP BY experiment, ds",
        "SELECT CONCAT('pdp=', COUNT(*)) FROM gold.pdp_redesign_outcomes",
        "SELECT CONCAT('pdpcur=', COUNT(*), '@', MAX(ds)) FROM gold.pdp_redesign_outcomes_current",
        "DESCRIBE TABLE EXTENDED gold.pdp_redesign_outcomes_current",
        "DESCRIBE TABLE EXTENDED gold.user_outcomes"]))  # fmt: skip
    assert code == 0, out[-3000:]
    assert "all=6" in out, out[:3000]
    # seed 002's users under the SaaS naming: every day's rows, and the newest day's
    assert "pdp=5" in out and "pdpcur=3@2024-01-03" in out, out[:3000]
    current = sorted(re.findall(r"cur=([a-z_]+@[0-9-]+=[0-9]+)", out))
    assert current == ["other_test@2024-01-02=1", "pdp_redesign@2024-01-03=3"], out[:3000]
    for column in USER_OUTCOMES.columns:
        assert column_comment(USER_OUTCOMES, column) in out, (column, out[:4000])
    assert "query the _current view for the latest" in out


def test_the_readouts_are_served_by_the_airflow_api_server_to_a_login_only(stack):
    """The plugin (include/airflow_plugins/lakehouse.py) on the stack's API server: the
    index, a readout and a day's Data Docs at /lakehouse, each refused without a login and
    served with one; paths cannot leave their folder; the UI lists the plugin's menu entry,
    DAG tab and task links."""
    import json
    import urllib.error
    import urllib.request

    state, ports, _ = stack
    base = f"http://127.0.0.1:{ports['LAKEHOUSE_AIRFLOW_PORT']}"
    page = state / "reports" / "experiments" / "cta" / "2024-01-09" / "readout.html"
    page.parent.mkdir(parents=True)
    page.write_text("<h1>cta readout: ship</h1>")
    docs = state / "gx" / "ds=2024-01-09" / "gx" / "uncommitted" / "data_docs" / "local_site"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<h1>validation report of 2024-01-09</h1>")

    def get(path: str, token: str | None = None) -> tuple[int, str]:
        req = urllib.request.Request(base + path)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    paths = ("/lakehouse/readouts/", "/lakehouse/readouts/cta/2024-01-09/readout.html",
             "/lakehouse/datadocs/2024-01-09/index.html")  # fmt: skip
    for path in paths:
        assert get(path)[0] in (401, 403), path  # no login, no page
    password = json.loads((state / "airflow" / "passwords.json").read_text())["admin"]
    req = urllib.request.Request(base + "/auth/token", method="POST",
                                 data=json.dumps({"username": "admin", "password": password})
                                 .encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        token = json.loads(resp.read())["access_token"]
    status, body = get(paths[0], token)
    assert status == 200 and "Experiment readouts" in body  # no readout written yet: empty
    assert get(paths[1], token) == (200, "<h1>cta readout: ship</h1>")
    assert get(paths[2], token) == (200, "<h1>validation report of 2024-01-09</h1>")
    for escape in ("/lakehouse/readouts/..%2F..%2Fcredentials.env",
                   "/lakehouse/readouts/cta/../../../credentials.env",
                   "/lakehouse/datadocs/2024-01-09/..%2F..%2F..%2F..%2F..%2Fcredentials.env",
                   "/lakehouse/datadocs/..%2F..%2Fx/index.html"):  # fmt: skip
        status, body = get(escape, token)
        assert status == 404 and "LAKEHOUSE_" not in body, escape
    plugins = json.loads(get("/api/v2/plugins", token)[1])["plugins"]
    mine = next(p for p in plugins if p["name"] == "lakehouse")
    assert {v["name"]: v["href"] for v in mine["external_views"]} == {
        "Experiment readouts": "/lakehouse/readouts/",
        "Readouts": "/lakehouse/readouts/dag/{DAG_ID}",
    }
    # listed as "<include.report_links.ReadoutLink object>"
    assert {re.sub(r"^<include\.report_links\.(\w+) object>$", r"\1", link)
            for link in mine["operator_extra_links"]} == {
        "ReadoutLink", "ReadoutIndexLink", "DataDocsLink"}  # fmt: skip


def test_a_browser_logs_in_opens_the_dag_and_sees_the_readout_s_verdict(stack):
    """Chromium (Debian's, driven by Playwright): log in to the stack's Airflow UI, open the
    experiment's DAG, follow its Readouts tab to the latest readout and see the verdict; the
    Browse menu's Experiment readouts lists it. The readout files are the report writer's
    own (the sample bundle, verdict SHIP for treatment_a), as a readout task writes them."""
    import json
    import shutil
    from dataclasses import replace

    from playwright.sync_api import sync_playwright

    from include.report.sample import sample_bundle
    from include.report.writer import write_report

    state, ports, _ = stack
    reports = state / "reports" / "experiments"
    days = {"decision_day": "2024-01-09", "final_day": "2024-03-09"}
    for ds in ("2024-01-08", "2024-01-09"):
        write_report(replace(sample_bundle(), experiment="homepage_cta_test", ds=ds,
                             deep_dive=None, **days), reports)  # fmt: skip
    password = json.loads((state / "airflow" / "passwords.json").read_text())["admin"]
    base = f"http://127.0.0.1:{ports['LAKEHOUSE_AIRFLOW_PORT']}"
    browser_binary = shutil.which("chromium")
    assert browser_binary, "chromium is missing: scripts/setup.sh installs it from Debian"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_binary, headless=True,
                                    args=["--no-sandbox"])  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/dags/experiment_homepage_cta_test")
            page.wait_for_url("**/auth/login**", timeout=30_000)  # a login comes first
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.get_by_role("link", name="Readouts", exact=True).click()
            frame = page.frame_locator("iframe").first
            # the tab's page redirects to the newest readout of the DAG's experiment
            frame.locator("h1", has_text="homepage_cta_test").wait_for(timeout=30_000)
            text = frame.locator("body").inner_text()
            assert "2024-01-09" in text and "SHIP" in text.upper()
            assert "treatment_a" in text
            page.goto(f"{base}/plugin/lakehouse-readouts")
            index = page.frame_locator("iframe").first
            row = index.locator("#experiments tr", has_text="homepage_cta_test")
            row.wait_for(timeout=30_000)
            assert "Ship" in row.inner_text() and "decided" in row.inner_text()
        finally:
            browser.close()
