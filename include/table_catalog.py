"""Every table of the lakehouse, declared as a contract (see ``include.contracts``).

Column names follow the seeds: seed 003 for the growth tables, seed 001 for the experiment
outcome columns, seed 002 for the PDP marts, seed 004 for the finance tables.
"""

from __future__ import annotations

from include.contracts import TableContract, register

# --------------------------------------------------------------------------- bronze
QUARANTINE = register(
    TableContract(
        name="quarantine",
        layer="bronze",
        ddl=(
            "source STRING, layer STRING, reason STRING, record STRING, source_file STRING, "
            "record_hash STRING, ds STRING"
        ),
        primary_key=(),
        partition_by=("ds", "layer", "source"),
        description=(
            "Every record that failed parsing, the schema or a conformance rule, with the "
            "reason; rows in = rows out + rows quarantined, per source, layer and ds."
        ),
        suite="bronze_quarantine",
    )
)

BRONZE_WEB_EVENTS = register(
    TableContract(
        name="web_events",
        layer="bronze",
        ddl=(
            "event_id STRING, event_time STRING, event_timestamp TIMESTAMP, user_id BIGINT, "
            "ip STRING, user_agent STRING, hostname STRING, url STRING, referrer STRING, "
            "utm_source STRING, session_id STRING, action_type STRING, "
            "properties MAP<STRING, STRING>, _source_file STRING, _record_hash STRING, "
            "ds STRING"
        ),
        primary_key=(),
        description=(
            "Raw web events as delivered (JSON lines), typed; duplicates and mess kept as they "
            "arrived (so no primary key). _record_hash = sha256 of the raw line; ds = the day "
            "the file landed. Ingestion metadata is the source file and hash, not a wall-clock "
            "time, so that re-running a day rewrites identical rows."
        ),
        suite="bronze_web_events",
    )
)

# --------------------------------------------------------------------------- silver
FCT_WEBSITE_EVENTS = register(
    TableContract(
        name="fct_website_events",
        layer="silver",
        ddl=(
            "user_id BIGINT, logged_out_user_id BIGINT, dim_hostname STRING, "
            "dim_country STRING, dim_device_brand STRING, dim_action_type STRING, "
            "event_timestamp TIMESTAMP, other_properties MAP<STRING, STRING>, ds STRING"
        ),
        primary_key=("logged_out_user_id", "event_timestamp"),
        description=(
            "seed 003 core.fct_website_events: deduplicated, conformed website events with IP "
            "enrichment (country) and user-agent enrichment (device brand); the raw IP is not "
            "kept, nor any property naming or holding an IP address. logged_out_user_id = "
            "keyed pseudonym of IP and user agent: murmur3 hash(sha2(secret key, ip, user "
            "agent)) as BIGINT; the key (LAKEHOUSE_PSEUDONYM_KEY) is generated once, never "
            "committed, and must not change (a new key gives every visitor a new id)."
        ),
        suite="silver_fct_website_events",
    )
)

# --------------------------------------------------------------------------- gold
AGG_WEBSITE_EVENTS = register(
    TableContract(
        name="agg_website_events",
        layer="gold",
        ddl=(
            "dim_action_type STRING, dim_country STRING, dim_device_brand STRING, "
            "event_hour INT, m_total_events BIGINT, m_distinct_users BIGINT, "
            "aggregation_level STRING, ds STRING"
        ),
        primary_key=(
            "aggregation_level",
            "dim_action_type",
            "dim_country",
            "dim_device_brand",
            "event_hour",
        ),
        description=(
            "seed 003 core.agg_website_events: GROUPING SETS over action type, country, "
            "device brand and event hour; aggregation_level names each grouping."
        ),
        suite="gold_agg_website_events",
    )
)

def _readout_ddl() -> str:
    """gold.readouts columns: every field of include.stats' readout record, plus provenance."""
    from include.stats.readout import RECORD_FIELDS

    types = {
        "control_n": "BIGINT", "variant_n": "BIGINT", "significant": "BOOLEAN",
        "higher_is_better": "BOOLEAN", "window_days": "BIGINT", "open_window_units": "BIGINT",
    }
    text = {
        "experiment", "metric", "metric_type", "role", "segment", "control_variant", "variant",
        "test", "correction", "bayes_method", "status", "cap",
    }
    cols = [
        f"{f} {types.get(f, 'STRING' if f in text else 'DOUBLE')}"
        for f in RECORD_FIELDS
    ]
    return ", ".join(
        ["readout STRING", "readout_id STRING", *cols, "verdict STRING", "verdict_reasons STRING",
         "trust_status STRING", "input_versions MAP<STRING, BIGINT>", "ds STRING"]
    )


READOUTS = register(
    TableContract(
        name="readouts",
        layer="gold",
        ddl=_readout_ddl(),
        primary_key=("readout_id", "metric", "segment", "variant"),
        partition_by=("ds", "readout"),
        description=(
            "Every statistical result ever produced: one row per readout x experiment x metric "
            "x segment x variant, with the exact Delta versions of the tables it read "
            "(input_versions) so anyone can reproduce it."
        ),
    )
)


QUALITY_RESULTS = register(
    TableContract(
        name="quality_results",
        layer="gold",
        ddl=(
            "suite STRING, table_name STRING, rule STRING, expectation STRING, kwargs STRING, "
            "severity STRING, success BOOLEAN, observed STRING, unexpected_count BIGINT, "
            "sample STRING, data_docs STRING, ds STRING"
        ),
        primary_key=("suite", "table_name", "rule"),
        partition_by=("ds", "suite"),
        description=(
            "Every quality-gate rule evaluated, per ds and suite: readouts show these in their "
            "trust panel; failed blocking rules also stopped the pipeline."
        ),
    )
)
