"""docker-compose.yml cannot run here (no Docker engine); check its structure instead."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services_and_wiring():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"minio", "minio-init", "postgres", "airflow-init", "airflow-api-server",
            "airflow-scheduler", "airflow-dag-processor"} <= set(services)
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor"):
        svc = services[name]
        assert "./:/opt/lakehouse" in svc["volumes"], name
        env = svc["environment"]
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/lakehouse/dags"
        assert env["LAKEHOUSE_S3_ENDPOINT"] == "http://minio:9000"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert "mc mb" in services["minio-init"]["entrypoint"]
    assert (ROOT / "conf" / "postgres-init.sql").exists()


def test_compose_holds_no_secret_values():
    text = (ROOT / "docker-compose.yml").read_text()
    for line in text.splitlines():
        if any(k in line for k in ("SECRET_KEY:", "PASSWORD:", "JWT_SECRET:")):
            assert "${" in line, f"literal secret in docker-compose.yml: {line.strip()}"


# --- held against the code (issue 31): settings, credentials, pools, connections, services ---

import json  # noqa: E402
import re  # noqa: E402

AIRFLOW_SERVICES = ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _lakehouse_env() -> dict:
    return _compose()["x-lakehouse-env"]


def test_every_setting_without_a_default_is_set():
    """Every variable ``include.settings`` reads with an empty default (a credential or key
    the code needs: the pseudonym key, the Connect token...) is set for every Airflow and
    Spark service."""
    source = (ROOT / "include" / "settings.py").read_text()
    consts = dict(re.findall(r'^(\w+_ENV) = "(\w+)"', source, re.M))
    names = set(re.findall(r'_env\("(\w+)", ""\)', source))
    names |= {consts[c] for c in re.findall(r'_env\((\w+_ENV), ""\)', source)}
    assert {"LAKEHOUSE_PSEUDONYM_KEY", "LAKEHOUSE_CONNECT_TOKEN",
            "LAKEHOUSE_S3_SECRET_KEY", "LAKEHOUSE_METASTORE_PASSWORD"} <= names, names
    services = _compose()["services"]
    for service in (*AIRFLOW_SERVICES, "airflow-init", "spark-connect", "spark-thrift"):
        env = services[service]["environment"]
        missing = sorted(n for n in names if not str(env.get(n, "")).strip())
        assert not missing, (service, missing)


def test_every_credential_set_up_generates_is_required_from_the_environment():
    """The names scripts/setup.sh generates into var/credentials.env: each one is set for the
    services from the environment (``${NAME:?...}`` fails docker compose up early when it is
    unset), never a literal."""
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    generated = set(re.findall(r'print\(f?"(\w+)=', setup)) | set(
        re.findall(r'print\("(\w+)=" \+', setup))
    assert {"LAKEHOUSE_S3_SECRET_KEY", "LAKEHOUSE_PSEUDONYM_KEY", "LAKEHOUSE_CONNECT_TOKEN",
            "AIRFLOW__API_AUTH__JWT_SECRET", "LAKEHOUSE_PG_PASSWORD"} <= generated, generated
    env = _lakehouse_env()
    for name in sorted(generated):
        assert str(env.get(name, "")).startswith("${"), (name, env.get(name))


def test_every_pool_and_connection_the_dags_use_exists():
    from airflow.dag_processing.dagbag import DagBag

    from include.airflow_tasks import POOLS

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    tasks = [t for dag in bag.dags.values() for t in dag.tasks]
    used_pools = {t.pool for t in tasks} - {"default_pool"}
    assert used_pools and used_pools <= set(POOLS), (used_pools, POOLS)
    init = _compose()["services"]["airflow-init"]["command"]
    assert "scripts/airflow_pools.py" in init and init.index("db migrate") < init.index(
        "airflow_pools.py")  # the pools table exists once the DB is migrated

    used_conns = {getattr(t, "conn_id", None) for t in tasks} - {None}
    assert {"spark_connect_lakehouse"} <= used_conns, used_conns
    env = _lakehouse_env()
    services = _compose()["services"]
    for conn_id in used_conns | {"spark_lakehouse"}:  # the submit engine's, too
        conn = json.loads(env[f"AIRFLOW_CONN_{conn_id.upper()}"])
        if conn["conn_type"] == "spark_connect":
            # the engine's service, on the port it publishes, with its token
            assert conn["host"] in services, conn["host"]
            assert f"127.0.0.1:{conn['port']}:{conn['port']}" in services[conn["host"]]["ports"]
            assert conn["password"] == "${LAKEHOUSE_CONNECT_TOKEN}"


def test_every_service_the_scripts_start_has_a_counterpart():
    airflow_sh = (ROOT / "scripts" / "airflow.sh").read_text()
    components = re.search(r"COMPONENTS=\(([^)]*)\)", airflow_sh).group(1).split()
    assert components == ["api-server", "scheduler", "dag-processor"]
    started = {f"airflow-{c}": f"airflow {c}" for c in components}
    # the scheduler preloads the tasks' libraries before it forks them (scripts/airflow.sh)
    assert "scripts/airflow_scheduler.py" in airflow_sh
    started["airflow-scheduler"] = "scripts/airflow_scheduler.py scheduler"
    # scripts/services.sh (PostgreSQL, MinIO, the engine) and scripts/thrift.sh
    started.update({"postgres": "postgres", "minio": "server /data",
                    "spark-connect": "include.engine_server run",
                    "spark-thrift": "scripts/thrift.sh run"})  # fmt: skip
    services = _compose()["services"]
    for service, command in started.items():
        assert service in services, service
        declared = services[service].get("command", "")
        declared = " ".join(declared) if isinstance(declared, list) else declared
        assert command in declared, (service, declared)
    assert "--skip-serve-logs" in services["airflow-scheduler"]["command"]


def test_every_published_port_is_on_the_hosts_loopback():
    for name, service in _compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
