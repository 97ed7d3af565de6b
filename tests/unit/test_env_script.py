"""scripts/env.sh is sourced by every script, often more than once in one process tree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env_after(sources: int, extra: str = "") -> str:
    script = f"{extra} " + "; ".join(["source scripts/env.sh"] * sources)
    script += '; printf "%s" "$AIRFLOW_CONN_SPARK_LAKEHOUSE"'
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True).stdout


def test_spark_connection_is_valid_json_however_often_sourced():
    once, thrice = _env_after(1), _env_after(3)
    assert once == thrice
    conn = json.loads(thrice)
    assert conn["conn_type"] == "spark" and conn["host"] == "local[2]"


def test_spark_master_is_configuration():
    conn = json.loads(_env_after(2, "export LAKEHOUSE_SPARK_MASTER=spark://h:7077;"))
    assert conn["host"] == "spark://h:7077"
