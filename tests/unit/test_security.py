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

import re
import subprocess
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

# A literal secret: a key or password assigned a quoted value that is not a template,
# an environment lookup or an obvious placeholder.
_ASSIGNED_SECRET = re.compile(
    r"""(?ix)(password|passwd|secret(_key)?|access_key|secret_access_key|token)\s*[:=]\s*
        ["']([^"'${}<>\s]{8,})["']"""
)
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
    env = ROOT / "var" / "credentials.env"
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
        for m in _ASSIGNED_SECRET.finditer(text):
            found.append(f"{rel}: {m.group(0)[:40]}…")
        found += [f"{rel}: a generated credential" for v in generated if v in text]
    assert not found, found


def test_the_secret_scan_catches_a_planted_secret():
    # assembled at run time, so this file itself holds no secret-shaped literal
    planted = "AIRFLOW_PASSWORD = " + '"' + "hunter2" * 2 + '"\nkey = "' + "AKIA" + "B" * 16 + '"'
    assert _ASSIGNED_SECRET.search(planted)
    assert any(p.search(planted) for p in _KNOWN_KEY_SHAPES)
    assert not _ASSIGNED_SECRET.search('password = os.environ["AIRFLOW_PASSWORD"]')
    assert not _ASSIGNED_SECRET.search('PASSWORD: "${LAKEHOUSE_PG_PASSWORD}"')


def test_credentials_file_is_ignored_by_git():
    out = subprocess.run(
        ["git", "check-ignore", "var/credentials.env"], cwd=ROOT, capture_output=True
    )
    assert out.returncode == 0, "var/credentials.env would be committed"


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


def test_no_credential_on_the_spark_jvm_command_line(spark):
    """The session every job builds: its JVM's argv names no credential, and S3A (and the
    metastore client) still see the credentials in the Hadoop configuration."""
    from include.settings import load_settings

    settings = load_settings()
    pid = spark.sparkContext._jvm.ProcessHandle.current().pid()
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    assert "org.apache.spark.deploy.SparkSubmit" in argv  # it is the Spark JVM's argv
    for key in ("fs.s3a.access.key", "fs.s3a.secret.key", "ConnectionPassword"):
        assert key not in argv
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()
    shared = spark._jsparkSession.sharedState().hadoopConf()
    for key, value in (("fs.s3a.access.key", settings.s3_access_key),
                       ("fs.s3a.secret.key", settings.s3_secret_key)):  # fmt: skip
        if value:  # CI and every set-up machine: generated into var/credentials.env
            assert value not in argv
            assert hadoop_conf.get(key) == value
            assert shared.get(key) == value


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
    "ds", ["2024-01-01' OR '1'='1", "2024-13-01", "2024-1-1", "2024-01-01\n", "", None]
)
def test_a_ds_is_a_real_date_before_it_reaches_a_predicate(ds):
    from include.tables import validate_ds

    with pytest.raises((ValueError, TypeError)):
        validate_ds(ds)


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
