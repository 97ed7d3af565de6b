"""Security rules that hold for the whole repository (issue 9).

* no credential in a committed file: every secret comes from ``var/credentials.env``
  (generated on the machine, git-ignored), the environment or an Airflow connection;
* no credential on a JVM's command line (``ps`` shows it to every local user): PySpark
  launches its JVM with the builder's settings as ``--conf`` arguments, so
  ``include.spark.build_spark`` sets the keys on the running context instead;
* a name a user gives (experiment, job, ds, segment, alpha, table) is validated before it
  reaches a table name, SQL text, importlib or a path;
* the raw IP address never reaches silver or gold (no contract beyond bronze carries it;
  the silver transform's output is checked in ``slice/test_fct_website_events.py``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HOSTILE_NAMES = [
    "homepage; DROP TABLE gold.readouts",
    "x' OR '1'='1",
    "../../etc/passwd",
    "gold/../../secrets",
    "`homepage`",
    "Homepage",
    "home page",
    "home-page",
    "homepage\n",
    "",
    "a" * 64,
    "ümlaut",
    "1homepage",
]

# Where the state directory is (credentials.env lives there): as include/settings.py reads it.
STATE_DIR = Path(os.environ.get("LAKEHOUSE_STATE_DIR") or ROOT / "var")

# A literal secret: a secret-named key (MINIO_ROOT_PASSWORD, "password", secret_key=, JWT_SECRET,
# os.environ["X_TOKEN"] =, ...) assigned a value that is not a template (${X}, $X, {x}, <x>),
# an expression (os.environ[...], password_for(...), settings.x), or an obvious placeholder.
_KEY = r"(?:pass(?:word|wd)|secret(?:_access)?(?:_key)?|access_key|api_?key|token)"
_PLACEHOLDER = r"(?!(?:changeme|change[-_]me|example|placeholder|redacted|your[-_]|x{8}|\*{8}))"
_ASSIGNED_SECRET = re.compile(
    rf"""(?ix)
    {_KEY} ["']?\]? \s*[:=]\s*
    (?:
        # quoted: 8+ characters, none of them a template's
        (?P<q>["']) {_PLACEHOLDER} [^"'$<>{{}}\s]{{8,}} (?P=q)
      | # unquoted (YAML, .env, shell, URL query): 8+ characters with a digit or one of -+/=
        # (so not a bare identifier such as SecretStr or metastore_password), and not followed
        # by what makes it an expression or the start of a template (settings.x, f(), x[..],
        # prefix-{...}, prefix$X)
        {_PLACEHOLDER} (?=[a-z0-9_+/=-]*[0-9+/=-])
        [a-z0-9][a-z0-9_+/=-]{{7,}}+ (?![\w.(\[{{$<%])
    )"""
)
# An environment-style line (.env, shell, compose): an upper-case secret-named key and a bare
# value to the end of the line, letters only too (MINIO_ROOT_PASSWORD: minioadmin): such a
# line holds no expression (Python's NAME = OTHER_NAME has spaces around "=").
_ENV_LINE_SECRET = re.compile(
    rf"""(?mx) ^[ \t]*(?:export[ \t]+|-[ \t]+)?
    [A-Z0-9_]*(?:PASS(?:WORD|WD)|SECRET(?:_ACCESS)?(?:_KEY)?|ACCESS_KEY|API_?KEY|TOKEN)
    (?:=|:[ \t]+)  # KEY=value (.env, shell: no spaces) or KEY: value (YAML)
    (?i:{_PLACEHOLDER}) [A-Za-z0-9][^\s"'$<>{{}}()\[\]`]{{7,}}+ [ \t]*(?:\#.*)?$"""
)
# A password inside a URL: scheme://user:<password>@host (not a template: ${X}, {x}, <x>, %s).
_URL_CREDENTIAL = re.compile(r"""(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@'"$<>{}]+:[^\s/@'"$<>{}%*]+@""")
_SECRET_PATTERNS = [_ASSIGNED_SECRET, _ENV_LINE_SECRET, _URL_CREDENTIAL]
_KNOWN_KEY_SHAPES = [
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"ghp_[A-Za-z0-9]{36}"),  # GitHub token
]


def _tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    return [ROOT / p for p in out.split("\0") if p]


def _generated_secrets() -> list[str]:
    """The values setup generated on this machine (if it ran): none may be committed."""
    env = STATE_DIR / "credentials.env"
    if not env.exists():
        return []
    values = []
    for line in env.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            value = line.split("=", 1)[1].strip().strip("'\"")
            if len(value) >= 8:
                values.append(value)
    return values


def test_no_credential_in_a_committed_file():
    files = _tracked_files()
    assert len(files) > 50  # the scan really looks at the repository
    generated = _generated_secrets()
    found = []
    for path in files:
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(ROOT)
        for pattern in _KNOWN_KEY_SHAPES:
            found += [f"{rel}: {m.group(0)[:12]}…" for m in pattern.finditer(text)]
        for pattern in _SECRET_PATTERNS:
            found += [f"{rel}: {m.group(0)[:40]}…" for m in pattern.finditer(text)]
        found += [f"{rel}: a generated credential" for v in generated if v in text]
    assert not found, found


def test_the_secret_scan_catches_a_planted_secret():
    # assembled at run time, so this file itself holds no secret-shaped literal
    planted = "AIRFLOW_PASSWORD = " + '"' + "hunter2" * 2 + '"\nkey = "' + "AKIA" + "B" * 16 + '"'
    assert _ASSIGNED_SECRET.search(planted)
    assert any(p.search(planted) for p in _KNOWN_KEY_SHAPES)
    assert not _ASSIGNED_SECRET.search('password = os.environ["AIRFLOW_PASSWORD"]')
    assert not _ASSIGNED_SECRET.search('PASSWORD: "${LAKEHOUSE_PG_PASSWORD}"')


# Lines the scan must flag. "<>" is cut out before the test, so that this file's own source
# holds no match (the scan above reads it too).
SECRET_LINES = [
    "MINIO_ROOT_PASSWORD: <>minioadmin123",
    "      MINIO_ROOT_PASSWORD: <>minioadmin123  # compose, unquoted",
    "SECRET_KEY=<>abcd1234efgh5678",
    "SECRET_KEY=<>abcdefghijklmnop",
    "MINIO_ROOT_PASSWORD: <>minioadmin",
    "  - MINIO_ROOT_PASSWORD=<>minioadmin  # compose list form",
    "export LAKEHOUSE_PG_PASSWORD=<>Zx9-kL2_pQ7w",
    "LAKEHOUSE_S3_SECRET_KEY=<>q8Jd93kdLs0-Uw_Yt4",
    "PGPASSWORD=<>hunter2hunter2 psql -h 127.0.0.1",
    '{"password": "<>hunter2hunter2"}',
    '{"user": "admin", "secret_key": "<>q8Jd93kdLsX"}',
    "password: '<>correct-horse-battery'",
    'password = "<>hunter2hunter2"',
    "conn = connect(password='<>hunter2hunter2')",
    'os.environ["LAKEHOUSE_PG_PASSWORD"] = "<>hunter2hunter2"',
    'AIRFLOW__API_AUTH__JWT_SECRET: "<>kJ8sd7f6g5h4j3k2"',
    'api_key = "<>sk_live_abcdef123456"',
    "access_key: <>lakehouse-1a2b3c4d",
    'TOKEN="<>abcdefghijklmnop"',
    "jdbc:postgresql://127.0.0.1:5433/metastore?user=lakehouse&password=<>s3cr3tpass1",
    "postgresql://u:<>pw@host/db",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql+psycopg2://lakehouse:<>s3cr3t@127.0.0.1/airflow",
    "https://admin:<>hunter2@example.com/api",
]

# Lines the scan must leave alone: references to a secret, never the secret itself.
CLEAN_LINES = [
    "LAKEHOUSE_S3_SECRET_KEY: ${LAKEHOUSE_S3_SECRET_KEY:?set LAKEHOUSE_S3_SECRET_KEY}",
    'MINIO_ROOT_PASSWORD="$LAKEHOUSE_S3_SECRET_KEY" nohup minio server',
    "MINIO_ROOT_PASSWORD: ${LAKEHOUSE_S3_SECRET_KEY}",
    'PGPASSWORD="$LAKEHOUSE_PG_PASSWORD" psql -h 127.0.0.1',
    "PGPASSWORD=$LAKEHOUSE_PG_PASSWORD psql -h 127.0.0.1",
    'password = os.environ["AIRFLOW_PASSWORD"]',
    'password = os.environ.get("LAKEHOUSE_PG_PASSWORD", "")',
    'secret_key = os.environ["LAKEHOUSE_S3_SECRET_KEY"]',
    'password = password_for("admin")',
    "token = secrets.token_urlsafe(18)",
    'print(f"LAKEHOUSE_S3_SECRET_KEY={secrets.token_urlsafe(24)}")',
    'print(f"LAKEHOUSE_S3_ACCESS_KEY=lakehouse-{secrets.token_hex(4)}")',
    "metastore_password=settings.metastore_password,",
    's3_secret_key=_env("LAKEHOUSE_S3_SECRET_KEY", ""),',
    "password: str",
    "    PASSWORD = DEFAULT_PASSWORD.strip()",
    "ADMIN_PASSWORD = DEFAULT_ADMIN_PASSWORD",
    "SECRET_KEY = load_secret()",
    "  MINIO_ROOT_PASSWORD: *minio-password",
    "AIRFLOW__API_AUTH__JWT_SECRET=`cat jwt.txt`",
    "token: SecretStr = Field(default=None)",
    'PASSWORD: "${LAKEHOUSE_PG_PASSWORD}"',
    "password: <password>",
    'password = "<your-password>"',
    "PASSWORD=changeme",
    'password = "********"',
    '"spark.hadoop.fs.s3a.secret.key": settings.s3_secret_key,',
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=$AIRFLOW_HOME/passwords.json",
    "postgresql+psycopg2://lakehouse:${LAKEHOUSE_PG_PASSWORD}@127.0.0.1:5433/airflow",
    'f"postgresql://{user}:{password}@{host}/db"',
    "postgresql://user:<password>@host/db",
    "jdbc:postgresql://127.0.0.1:5433/metastore",
    "http://127.0.0.1:9000/minio/health/live",
    "git@github.com:owner/repo.git",
    "log in as admin / password in var/airflow/passwords.json",
]


@pytest.mark.parametrize("line", SECRET_LINES)
def test_the_secret_scan_flags_a_literal_credential(line):
    line = line.replace("<>", "")
    assert any(p.search(line) for p in _SECRET_PATTERNS), line


@pytest.mark.parametrize("line", CLEAN_LINES)
def test_the_secret_scan_leaves_a_reference_alone(line):
    hits = [m.group(0) for p in _SECRET_PATTERNS for m in p.finditer(line)]
    assert not hits, (line, hits)


def test_credentials_file_is_ignored_by_git():
    env = STATE_DIR / "credentials.env"
    try:
        rel = env.resolve().relative_to(ROOT)
    except ValueError:
        pytest.skip(f"the state directory {STATE_DIR} is outside the repository")
    out = subprocess.run(["git", "check-ignore", str(rel)], cwd=ROOT, capture_output=True)
    assert out.returncode == 0, f"{rel} would be committed"


@pytest.mark.parametrize(
    "path",
    # docker-compose.yml reads credentials from an .env file; Airflow's passwords file and the
    # rendered spark-defaults.conf hold them too, wherever AIRFLOW_HOME / SPARK_CONF_DIR point
    [".env", ".env.local", "var/credentials.env", "conf/credentials.env",
     "var/airflow/passwords.json", "airflow/passwords.json", "spark-conf/spark-defaults.conf"],
)  # fmt: skip
def test_local_credential_files_are_ignored_by_git(path):
    out = subprocess.run(["git", "check-ignore", path], cwd=ROOT, capture_output=True)
    assert out.returncode == 0, f"{path} would be committed"


def _spark_conf_script():
    spec = importlib.util.spec_from_file_location("spark_conf", ROOT / "scripts" / "spark_conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spark_defaults_are_never_readable_by_others(tmp_path, monkeypatch):
    """spark-defaults.conf holds the S3 keys: mode 600 from its creation on (no window between
    writing and a chmod), and a file an older version left 644 is narrowed."""
    script = _spark_conf_script()
    seen = []  # the file's mode when its content is about to be written
    real_fdopen = os.fdopen

    def fdopen(fd, *args, **kwargs):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fdopen(fd, *args, **kwargs)

    import include.spark

    monkeypatch.setattr(include.spark.os, "fdopen", fdopen)
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    old_umask = os.umask(0o022)
    try:
        script.main()
        target = tmp_path / "spark-defaults.conf"
        assert seen == [0o600]
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert "spark.hadoop.fs.s3a.endpoint" in target.read_text()
        target.chmod(0o644)  # as an older spark_conf.py could leave it
        script.main()
        assert seen == [0o600, 0o600]  # narrowed before the new content goes in
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)


def test_split_secrets_takes_the_credentials_out_of_the_launch_settings():
    from include.spark import SECRET_KEYS, split_secrets

    conf = {
        "spark.hadoop.fs.s3a.access.key": "AK",
        "spark.hadoop.fs.s3a.secret.key": "SK",
        "spark.hadoop.javax.jdo.option.ConnectionPassword": "",  # unset: nothing to set
        "spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:9000",
    }
    public, secrets = split_secrets(conf)
    assert public == {"spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:9000"}
    assert secrets == {"fs.s3a.access.key": "AK", "fs.s3a.secret.key": "SK"}
    assert len(SECRET_KEYS) == 3


def test_no_credential_on_the_engine_servers_command_line(engine_server):
    """The Spark Connect server holds every credential (its spark-defaults.conf, mode 600) and
    its token (its environment, readable by its owner only): none is on its command line,
    which any local user can read (``ps``, /proc/PID/cmdline)."""
    from include.settings import load_settings

    settings = load_settings()
    pid = engine_server.pid()
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert "SparkConnectServer" in argv or "spark-internal" in argv  # the server's JVM
    for key in ("fs.s3a.access.key", "fs.s3a.secret.key", "ConnectionPassword",
                "authenticate.token"):  # fmt: skip
        assert key not in argv
    secrets = [engine_server.token, settings.s3_access_key, settings.s3_secret_key,
               settings.metastore_password]  # fmt: skip
    assert engine_server.token  # always set: the server refuses to start without one
    for value in filter(None, secrets):
        assert value not in argv
    environ = Path(f"/proc/{pid}/environ")
    assert stat.S_IMODE(environ.stat().st_mode) & 0o077 == 0  # the token's only copy
    conf = engine_server.conf_dir / "spark-defaults.conf"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600


CLASSIC_PROBE = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from include.settings import load_settings
from include.spark import build_spark
settings = load_settings()
spark = build_spark("security-probe", settings, metastore=False)
pid = spark.sparkContext._jvm.ProcessHandle.current().pid()
argv = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
hadoop = spark.sparkContext._jsc.hadoopConfiguration()
shared = spark._jsparkSession.sharedState().hadoopConf()
keys = ("fs.s3a.access.key", "fs.s3a.secret.key")
print("PROBE " + json.dumps({
    "is_spark_jvm": "org.apache.spark.deploy.SparkSubmit" in argv,
    "keys_in_argv": [k for k in (*keys, "ConnectionPassword") if k in argv],
    "values_in_argv": [k for k, v in zip(keys, (settings.s3_access_key, settings.s3_secret_key))
                       if v and v in argv],
    "hadoop_conf_has": [k for k, v in zip(keys, (settings.s3_access_key, settings.s3_secret_key))
                        if v and hadoop.get(k) == v and shared.get(k) == v],
    "set": [k for k, v in zip(keys, (settings.s3_access_key, settings.s3_secret_key)) if v],
}))
"""


def test_no_credential_on_a_job_jvms_command_line():
    """The second engine (``LAKEHOUSE_ENGINE=submit``): the session a job builds in a JVM of its
    own. Its argv names no credential, and S3A (and the metastore client) still see the
    credentials in the Hadoop configuration (set there by ``build_spark``, not as --conf)."""
    from tests.conftest import classic_env

    out = subprocess.run([sys.executable, "-c", CLASSIC_PROBE, str(ROOT)], env=classic_env(),
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    line = next((x for x in out.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line, out.stdout[-2000:] + out.stderr[-4000:]
    probe = json.loads(line[len("PROBE "):])
    assert probe["is_spark_jvm"]
    assert probe["keys_in_argv"] == [] and probe["values_in_argv"] == []
    assert probe["hadoop_conf_has"] == probe["set"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_identifiers_are_rejected(name):
    from include.contracts import get_contract, validate_identifier
    from include.experiments import load_experiment

    with pytest.raises(ValueError):
        validate_identifier(name, "experiment name")
    with pytest.raises(ValueError):  # before any file is opened
        load_experiment(name, Path("/nonexistent"))
    with pytest.raises((ValueError, KeyError)):
        get_contract(f"gold.{name}")


@pytest.mark.parametrize(
    "job",
    ["silver.x; rm -rf /", "os.system", "silver..x", "silver/../../x", "gold.X", "bronze",
     "silver.x\n"],
)
def test_hostile_job_names_never_reach_importlib(job, monkeypatch):
    import importlib.util

    from spark_jobs.run import job_module

    looked_up = []
    monkeypatch.setattr(importlib.util, "find_spec", lambda m: looked_up.append(m))
    with pytest.raises(SystemExit, match="invalid job name"):
        job_module(job)
    assert looked_up == []


@pytest.mark.parametrize(
    "params",
    [
        {"ds": "2024-01-01' OR '1'='1"},
        {"ds": "../2024-01-01"},
        {"ds": "2024-01-01\n"},
        {"segments": ["country; DROP TABLE x"]},
        {"segments": "country"},
        {"alpha": "0.05; DROP"},
        {"alpha": float("nan")},
        {"experiment": "other_experiment"},
    ],
)
def test_hostile_readout_params_fail_before_spark(params):
    from include.dag_factory import load_configs, resolve_run

    spec = next(s for s in load_configs() if s.name == "homepage_cta_test")
    with pytest.raises(ValueError):
        resolve_run(spec, params, logical_ds="2024-01-05")


@pytest.mark.parametrize(
    "ds",
    ["2024-01-01' OR '1'='1", "2024-13-01", "2024-1-1", "2024-01-01\n", "", None,
     "２０２４-０１-０１", "٢٠٢٤-٠١-٠١"],  # other scripts' digits match \d, and are no ds
)  # fmt: skip
def test_a_ds_is_a_real_date_before_it_reaches_a_predicate(ds):
    from include.tables import validate_ds

    with pytest.raises((ValueError, TypeError)):
        validate_ds(ds)


@pytest.mark.parametrize(
    "month", ["２０２４-０１", "٢٠٢٤-٠١", "2024-13", "2024-00", "2024-1", "2024-01' OR '1'='1",
              "2024-01\n", "2024-01-01", ""],
)  # fmt: skip
def test_a_month_is_a_real_month_before_it_reaches_a_predicate(month):
    from include.contracts import get_contract
    from include.tables import partition_predicate

    contract = get_contract("gold.monthly_revenue")  # partitioned by month
    assert partition_predicate(contract, "2024-01") == "month = '2024-01'"
    with pytest.raises(ValueError, match="invalid month"):
        partition_predicate(contract, month)


def test_several_slices_of_a_partition_are_validated_one_by_one():
    """One gate task replaces its tables' result slices in one commit: every value of the
    tuple is checked like a single slice value before it reaches the predicate."""
    from include.contracts import get_contract
    from include.tables import partition_predicate

    results = get_contract("gold.quality_results")  # partitioned by ds and suite
    assert partition_predicate(results, "2024-01-05", {"suite": ("b_suite", "a_suite")}) == (
        "ds = '2024-01-05' AND suite IN ('a_suite', 'b_suite')"
    )
    for hostile in ("a' OR '1'='1", "A", ""):
        with pytest.raises(ValueError, match="invalid suite"):
            partition_predicate(results, "2024-01-05", {"suite": ("a_suite", hostile)})
    with pytest.raises(ValueError, match="no value for suite"):
        partition_predicate(results, "2024-01-05", {"suite": ()})


def test_report_paths_cannot_escape_their_folder(tmp_path):
    from include.report.writer import safe_name

    for name in [*HOSTILE_NAMES, "..", ".", "/", "a/../../b"]:
        cleaned = safe_name(name)
        assert cleaned not in ("", ".", "..") and "/" not in cleaned, name
        assert (tmp_path / cleaned).resolve().parent == tmp_path.resolve(), name


def test_no_table_beyond_bronze_holds_the_raw_ip():
    from include.contracts import all_contracts

    beyond_bronze = [c for c in all_contracts() if c.layer in ("silver", "gold")]
    assert len(beyond_bronze) > 20
    for contract in beyond_bronze:
        columns = {c.lower() for c in contract.columns}
        assert not columns & {"ip", "ip_address", "client_ip", "remote_addr"}, contract.name
    from include.contracts import get_contract

    assert "ip" in get_contract("bronze.web_events").columns  # the check sees real columns


def test_assignments_with_a_hostile_experiment_name_are_quarantined(spark):
    from spark_jobs.silver.experiment_assignments import rules

    names = ["homepage_cta_test", "homepage_cta_test\n", "Homepage", "x; DROP TABLE y", "a" * 64]
    df = spark.createDataFrame([(n,) for n in names], "experiment STRING")
    [(reason, bad)] = rules()
    flagged = {r.experiment for r in df.where(bad).collect()}
    assert reason == "bad_experiment"
    assert flagged == set(names) - {"homepage_cta_test"}


SECRET_SETTINGS = ["s3_access_key", "s3_secret_key", "metastore_password", "pseudonym_key",
                   "connect_token"]  # fmt: skip


@pytest.mark.parametrize("name", SECRET_SETTINGS)
def test_a_secret_setting_never_shows_in_the_settings_repr(name, monkeypatch):
    import dataclasses

    from include.settings import load_settings

    planted = f"planted-{name}-f4c1b9e7"
    settings = dataclasses.replace(load_settings(), **{name: planted})
    assert getattr(settings, name) == planted  # the value is there...
    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert planted not in text  # ...and never printed
    assert "s3_endpoint=" in repr(settings)  # the public settings still are
