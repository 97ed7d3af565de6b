"""Issue 9: the raw IP address never reaches silver (nor gold, which reads only silver).

* ``logged_out_user_id`` is a keyed pseudonym that one known visit cannot unlock, its value is
  pinned (ids must not change between releases), and the key is in no query plan;
* the silver job's outputs - facts and the quarantine rows it writes - hold no IP text, and it
  counts the property entries it dropped;
* every way the job is started fails clearly, before Spark work, without a usable key.

A pure-Python copy of Spark's ``hash`` (murmur3 x86_32 as ``Murmur3_x86_32.hashUnsafeBytes``
computes it, seed 42) works the expected ids out independently of Spark and shows why keying
murmur3 directly is not enough.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
from pyspark.sql import functions as F
from test_fct_website_events import _bronze as fct_bronze  # same folder (pytest's rootdir import)

from include.table_catalog import BRONZE_WEB_EVENTS, FCT_WEBSITE_EVENTS, QUARANTINE
from spark_jobs.silver.fct_website_events import label, transform

DS = "2024-01-05"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
IP_TEXTS = ("81.2.3.4", "10.0.0.1", "2001:db8::7")

# --------------------------------------------------------------------------- murmur3 in Python
_M = 0xFFFFFFFF
_C1, _C2 = 0xCC9E2D51, 0x1B873593


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M


def _blocks(data: bytes) -> list[int]:
    """4-byte little-endian words, then each trailing byte on its own, sign-extended (Spark)."""
    n = len(data) - len(data) % 4
    words = [int.from_bytes(data[i : i + 4], "little") for i in range(0, n, 4)]
    words += [(b - 256 if b > 127 else b) & _M for b in data[n:]]
    return [(_rotl((k * _C1) & _M, 15) * _C2) & _M for k in words]


def _murmur3(data: bytes, seed: int) -> int:
    h = seed & _M
    for k in _blocks(data):
        h = (_rotl(h ^ k, 13) * 5 + 0xE6546B64) & _M
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M
    return h ^ (h >> 16)


def _unmurmur3(data: bytes, out: int) -> int:
    """The seed that ``_murmur3(data, seed)`` turns into ``out``: every step is invertible."""

    def unshift(h: int, s: int) -> int:
        r = h
        for _ in range(32 // s + 1):
            r = h ^ (r >> s)
        return r

    h = unshift(out & _M, 16)
    h = unshift((h * pow(0xC2B2AE35, -1, 1 << 32)) & _M, 13)
    h = unshift((h * pow(0x85EBCA6B, -1, 1 << 32)) & _M, 16) ^ len(data)
    for k in reversed(_blocks(data)):
        h = ((h - 0xE6546B64) * pow(5, -1, 1 << 32)) & _M
        h = (((h >> 13) | (h << 19)) & _M) ^ k
    return h


def spark_hash(*values: str, seed: int = 42) -> int:
    """Spark SQL's ``hash(v1, v2, ...)`` of strings: each value seeds the next."""
    h = seed
    for v in values:
        h = _murmur3(v.encode(), h)
    return h - (1 << 32) if h & 0x80000000 else h


def expected_pseudonym(key: str, ip: str, user_agent: str) -> int:
    digest = hashlib.sha256(f"{key}:{len(ip)}:{ip}{user_agent}".encode()).hexdigest()
    return spark_hash(digest)


def _spark_value(spark, column):
    return spark.range(1).select(column.alias("v")).first().v


# --------------------------------------------------------------------------- the pseudonym
def test_the_python_murmur3_is_sparks_hash(spark):
    for values in [("81.2.3.4", IPHONE), ("abc",), ("", "ü-é 12345"), ("k" * 37, "x", "yz")]:
        assert _spark_value(spark, F.hash(*[F.lit(v) for v in values])) == spark_hash(*values)


def test_the_pseudonym_is_pinned(spark, pseudonym_key):
    """Changing the formula changes every visitor's id, like changing the key: it must not
    happen by accident. -744087618 = hash(sha2(key:8:81.2.3.4<iPhone UA>, 256))."""
    bronze = _bronze(spark, [{"ip": "81.2.3.4", "user_agent": IPHONE}])
    (row,) = transform(bronze, DS, spark, pseudonym_key)[0].collect()
    assert row.logged_out_user_id == expected_pseudonym(pseudonym_key, "81.2.3.4", IPHONE)
    assert row.logged_out_user_id == -744087618


def test_one_known_visit_does_not_unlock_the_other_visitors(spark, pseudonym_key):
    """Anyone who knows one visit's IP, user agent and id (their own) must learn nothing that
    lets them compute another visitor's id, else the brute force over a country's IPs works
    again. With murmur3 keyed directly, hash(key, ip, ua), they can: the key only sets the
    32-bit state the IP is hashed from, and inverting murmur3 on the known visit gives it."""
    key, known, other = F.lit(pseudonym_key), ("81.2.3.4", IPHONE), ("23.9.8.7", WIN)

    naive_known = _spark_value(spark, F.hash(key, *map(F.lit, known)))
    state = _unmurmur3(known[0].encode(), _unmurmur3(known[1].encode(), naive_known))
    naive_other = _spark_value(spark, F.hash(key, *map(F.lit, other)))
    assert spark_hash(*other, seed=state) == naive_other  # the naive scheme is open

    bronze = _bronze(
        spark,
        [
            {"ip": known[0], "user_agent": known[1], "event_id": "a", "_record_hash": "h1"},
            {"ip": other[0], "user_agent": other[1], "event_id": "b", "_record_hash": "h2"},
        ],
    )
    ids = {
        r.other_properties["event_id"]: r.logged_out_user_id
        for r in transform(bronze, DS, spark, pseudonym_key)[0].collect()
    }
    state = _unmurmur3(known[0].encode(), _unmurmur3(known[1].encode(), ids["a"]))
    assert spark_hash(*other, seed=state) != ids["b"]


# --------------------------------------------------------------------------- the job
def _bronze(spark, rows):
    """Bronze rows as in test_fct_website_events, from the address this file follows."""
    return fct_bronze(spark, [{"ip": "81.2.3.4", **r} for r in rows])


def _day(spark):
    """A fact, a duplicate delivery of it, a bot and a malformed hostname, all from IPs
    that also hide in their properties."""
    return _bronze(
        spark,
        [
            {
                "event_id": "a",
                "_record_hash": "h1",
                "properties": {"ip": "81.2.3.4", "plan": "pro"},
            },
            {"event_id": "a", "_record_hash": "h2", "properties": {"client_ip": "81.2.3.4"}},
            {
                "event_id": "b",
                "_record_hash": "h3",
                "ip": "10.0.0.1",
                "user_agent": "Googlebot/2.1 (+http://www.google.com/bot.html)",
                "properties": {"X-Forwarded-For": "10.0.0.1, 81.2.3.4", "peer": "2001:db8::7"},
            },
            {
                "event_id": "c",
                "_record_hash": "h4",
                "ip": "2001:db8::7",
                "hostname": "learnlake",
                "properties": {"note": "81.2.3.4", "build": "v1.2.3.4-beta"},
            },
        ],
    )


def test_the_silver_job_writes_no_ip_anywhere(spark, lakehouse_env):
    """Through ``spark_jobs/run.py`` (as Airflow's spark-submit runs it), the key from the
    environment: neither the facts nor the quarantine rows hold IP text, and the dropped
    property entries are counted (1 + 1 + 2 + 1 = 5)."""
    from include.tables import read_partition, write_partition
    from spark_jobs.run import run

    write_partition(spark, _day(spark), BRONZE_WEB_EVENTS, DS, lakehouse_env)
    result = run("silver.fct_website_events", DS, spark=spark)
    assert (result["rows_in"], result["rows_out"], result["rows_quarantined"]) == (4, 1, 3)
    assert result["extra"] == {"ip_properties_dropped": 5}

    quarantine = read_partition(spark, QUARANTINE, DS, lakehouse_env).where("layer = 'silver'")
    rows = {r.record_hash: r for r in quarantine.collect()}
    assert {h: r.reason for h, r in rows.items()} == {
        "h2": "duplicate_event",
        "h3": "bot_traffic",
        "h4": "bad_hostname",
    }
    for row in rows.values():
        text = str(row.asDict())
        assert not any(ip in text for ip in IP_TEXTS), text
        assert '"ip"' not in row.record and "client_ip" not in row.record
    assert '"build":"v1.2.3.4-beta"' in rows["h4"].record  # harmless properties are kept

    (fact,) = read_partition(spark, FCT_WEBSITE_EVENTS, DS, lakehouse_env).collect()
    assert fact.other_properties["plan"] == "pro"
    assert not any(ip in str(fact.asDict()) for ip in IP_TEXTS)


def _plan_texts(spark, frame, server) -> list[str]:
    """Every plan text Spark shows: explain, and what the engine server's UI (and an event
    log) keeps of every execution so far (its description, plan description and plan graph
    nodes), and of every Connect session and statement (the Connect tab's pages)."""
    import contextlib
    import io
    import json
    import re

    from tests.conftest import server_api, server_page

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        frame.explain(mode="extended")
        frame.explain(mode="formatted")
    texts = [out.getvalue()]
    for execution in server_api(server, "sql?details=true&planDescription=true&length=100000"):
        texts.append(json.dumps(execution))
    connect = server_page(server, "connect/")
    texts.append(connect)
    # the sessions the first page lists, and this session's own page (its statements)
    sessions = set(re.findall(r"connect/session/\?id=([0-9a-f-]+)", connect))
    for session in sorted(sessions | {spark.session_id}):
        texts.append(server_page(server, f"connect/session/?id={session}"))
    return texts


def test_the_key_is_in_no_plan(lakehouse_env, monkeypatch, engine_server):
    from include.engine import connect_session
    from include.tables import write_partition
    from spark_jobs.run import run

    key = f"plan-probe-{uuid.uuid4().hex}"
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", key)
    # a session of its own, as a task has: the UI's page of this session lists its statements
    spark = connect_session(engine_server.target)
    try:
        write_partition(spark, _day(spark), BRONZE_WEB_EVENTS, DS, lakehouse_env)
        run("silver.fct_website_events", DS, spark=spark)  # the job's own executions
        labeled = label(_day(spark), spark, key).persist()
        try:
            assert labeled.count() == 4
            texts = _plan_texts(spark, labeled, engine_server)
        finally:
            labeled.unpersist()
    finally:
        spark_sid = spark.session_id
        spark.stop()
    assert any("_pseudonym_key" in t for t in texts)  # the probe does look at the plans
    # ... and at the UI's page of this session, whose statements show their local relations
    # (the key's one-row frame is one; the server truncates their data after a few bytes)
    assert any(spark_sid in t and "local_relation" in t for t in texts[1:])
    assert not [t[:200] for t in texts if key in t]


def test_the_cli_path_fails_clearly_without_a_key(lakehouse_env, monkeypatch):
    from spark_jobs.run import run

    monkeypatch.delenv("LAKEHOUSE_PSEUDONYM_KEY")
    with pytest.raises(RuntimeError, match="LAKEHOUSE_PSEUDONYM_KEY is not set.*make setup"):
        run("silver.fct_website_events", DS, spark=object())  # no Spark work: no session used
    monkeypatch.setenv("LAKEHOUSE_PSEUDONYM_KEY", "x" * 15)
    with pytest.raises(RuntimeError, match=r"too short \(15 characters, at least 16\)"):
        run("silver.fct_website_events", DS, spark=object())


def test_settings_keep_the_key_out_of_their_repr(lakehouse_env, pseudonym_key):
    assert lakehouse_env.require_pseudonym_key() == pseudonym_key
    assert pseudonym_key not in repr(lakehouse_env)
