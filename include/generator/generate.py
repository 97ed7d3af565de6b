"""``generate_day``: every raw file of one ``ds`` plus its truth, as bytes keyed by path.

A pure function of (ds, config): it rebuilds the account population from the epoch (no
state is read or kept), draws the day's traffic from streams seeded by (seed, ds, purpose),
plants the configured mess, and serialises deterministically (sorted rows, fixed float
formatting, sorted JSON keys). Paths follow ``include.raw_sources``:
``{source}/ds={ds}/part-NNNNN.{jsonl|csv}`` and ``_truth/ds={ds}/manifest.json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import pandas as pd

from include.generator import catalog
from include.generator.calendar import MS_PER_DAY, day_start_ms, day_weight, iso_times
from include.generator.config import GeneratorConfig
from include.generator.events import COMPONENTS, DEVICE_OF_UA, Block, concat_blocks, size
from include.generator.randomness import hash64, hex_ids, name_key
from include.generator.saas_day import (
    Exposures,
    accounts_table,
    billing_table,
    converted_exposure_block,
    duplicate_accounts,
    homepage_block,
    hybrid_block,
    signup_block,
    tickets_and_nps,
    usage_tables,
)
from include.generator.serialize import (
    csv_bytes,
    event_ids,
    jsonl_records,
    plant_row_mess,
    sort_events,
    web_part_bytes,
)
from include.generator.shop import products_table, shop_day
from include.generator.subscribers import build_subscribers
from include.generator.traffic import (
    background_block,
    bot_block,
    contamination_block,
    late_block,
    multi_id_block,
)
from include.generator.truth import (
    GENERATOR_VERSION,
    experiment_section,
    manifest_bytes,
    mrr_by_month,
    saas_truth,
    seasonality_section,
    shop_truth,
)
from include.raw_sources import HOSTNAMES, RAW_SOURCES, TRUTH_SOURCE

MANIFEST = "manifest.json"


def source_path(source: str, ds: str, part: int = 0) -> str:
    """Relative path of a part file, per the raw-zone contract's layout."""
    return f"{source}/ds={ds}/part-{part:05d}.{RAW_SOURCES[source].fmt}"


def truth_path(ds: str, name: str = MANIFEST) -> str:
    return f"{TRUTH_SOURCE}/ds={ds}/{name}"


def generate_day(ds: str, config: GeneratorConfig | None = None) -> dict[str, bytes]:
    """All files of ``ds`` (raw sources and truth) as {relative path: bytes}.

    The manifest is the last key, so writers that keep the order write it last. For big
    scales prefer :func:`iter_day`, which holds one web-event part in memory at a time.
    """
    return dict(iter_day(ds, config))


def iter_day(ds: str, config: GeneratorConfig | None = None) -> Iterator[tuple[str, bytes]]:
    """Yield (relative path, bytes) for every file of ``ds``; the manifest comes last."""
    cfg = (config or GeneratorConfig()).validate()
    day = date.fromisoformat(ds)
    if day < date.fromisoformat(cfg.epoch):
        raise ValueError(f"ds {ds} is before the generator epoch {cfg.epoch}")
    subs = build_subscribers(cfg, day)
    expo = Exposures()
    web = _web_traffic(cfg, day, subs, expo)
    exposures = expo.frame()
    if len(exposures):
        lo = day_start_ms(day)
        exposures["t"] = np.clip(exposures["t"].to_numpy(np.int64), lo, lo + MS_PER_DAY - 1)
    tables = _tables(cfg, day, subs, web)
    sessions = _session_arrays(web.pop("events"))
    manifest = _manifest(cfg, day, subs, web, exposures, tables, len(sessions["sess"]))
    sorted_events, sorted_mess = sort_events(web.pop("messy"), web["row_mess"])
    for i, part in enumerate(web_part_bytes(sorted_events, sorted_mess, cfg.events_per_part)):
        yield source_path("web_events", ds, i), part
    del sorted_events
    yield source_path("sessions", ds), _sessions_csv(sessions)
    del sessions
    yield source_path("experiment_assignments", ds), _assignments(cfg, exposures)
    for source, frame in tables.items():
        yield source_path(source, ds), csv_bytes(frame, RAW_SOURCES[source].fields)
    identity = web["identity"]
    yield truth_path(ds, "identity_map.csv"), csv_bytes(identity, tuple(identity.columns))
    truth = _exposure_truth(exposures)
    yield truth_path(ds, "exposures.csv"), csv_bytes(truth, tuple(truth.columns))
    yield truth_path(ds), manifest_bytes(manifest)


def _web_traffic(cfg: GeneratorConfig, day: date, subs, expo: Exposures) -> dict:
    """Build every web-event component, plant the mess and serialise the lines."""
    funnel_parts = [
        homepage_block(cfg, day, expo),
        signup_block(cfg, subs, day, expo),
        hybrid_block(cfg, subs, day, expo),
    ]
    saas_exposures = len(expo.frame())
    converted, n_converted = converted_exposure_block(cfg, subs, day, expo, saas_exposures)
    usage, usage_block = usage_tables(cfg, subs, day)
    shop = shop_day(cfg, day, expo)
    funnel = concat_blocks([*funnel_parts, converted, usage_block, shop.block])
    contam, n_contam = contamination_block(cfg, day, funnel, expo)
    alias, identity = multi_id_block(cfg, day, funnel, expo)
    duplicates = duplicate_accounts(subs, day)
    target = round(cfg.events_per_day * day_weight(day))
    so_far = size(funnel) + size(contam) + size(alias)
    background = background_block(cfg, day, max(0, target - so_far))
    clean = concat_blocks([funnel, contam, alias, background])
    # Sessions near midnight must not spill into the next day's partition.
    clean["t"] = np.clip(clean["t"], day_start_ms(day), day_start_ms(day) + MS_PER_DAY - 1)
    late = late_block(cfg, day, round(cfg.mess.late * size(clean)))
    human = size(clean) + size(late)
    bots = bot_block(cfg, day, round(cfg.mess.bot / (1 - cfg.mess.bot) * human))
    events = concat_blocks([clean, late, bots])
    events["eid"] = event_ids(cfg, day, events)
    messy, row_mess = plant_row_mess(cfg, day, events)
    return {
        "events": events,
        "messy": messy,
        "n_events": size(events),
        "by_component": {
            name: int((events["comp"] == code).sum()) for name, code in COMPONENTS.items()
        },
        "n_lines": size(messy),
        "row_mess": row_mess,
        "usage": usage,
        "orders": shop.orders,
        "cohort": shop.cohort,
        "identity": pd.concat([identity, duplicates], ignore_index=True),
        "counts": {
            "contamination": n_contam,
            "multi_id_aliases": len(identity),
            "multi_id_persons": int(identity["person_id"].nunique()),
            "duplicate_accounts": len(duplicates),
            "conversion_before_exposure": n_converted,
            "late": size(late),
            "out_of_order": shop.out_of_order,
            "bot_events": size(bots),
            "bot_ips": int(np.unique(bots["ip"]).size),
        },
    }


def _assignments(cfg: GeneratorConfig, exposures: pd.DataFrame) -> bytes:
    """experiment_assignments lines, one per assignment decision, sorted by time and id."""
    if exposures.empty:
        return b""
    anon = exposures["anon"].to_numpy(dtype=np.uint64)
    t = exposures["t"].to_numpy(dtype=np.int64)
    keys = {name: name_key(name) for name in exposures["experiment"].unique()}
    exp_key = exposures["experiment"].map(keys).to_numpy(dtype=np.uint64)
    uid = exposures["uid"].to_numpy(dtype=np.int64)
    user_id = pd.array(uid, dtype="Int64")
    user_id[uid == 0] = pd.NA
    frame = pd.DataFrame(
        {
            "assignment_id": hex_ids(
                hash64(
                    hash64(anon ^ exp_key, cfg.seed, "assign") ^ t.astype(np.uint64),
                    cfg.seed,
                    "assign_t",
                ),
                "as_",
            ),
            "experiment": exposures["experiment"].to_numpy(dtype=object),
            "variant": exposures["variant"].to_numpy(dtype=object),
            "user_id": user_id,
            "anonymous_id": hex_ids(anon),
            "assigned_at": iso_times(t),
        }
    )
    frame = frame.sort_values(["assigned_at", "assignment_id"], kind="mergesort")
    return jsonl_records(frame[list(RAW_SOURCES["experiment_assignments"].fields)])


def _exposure_truth(exposures: pd.DataFrame) -> pd.DataFrame:
    """Every exposure with the reason it exists (clean arm, hybrid, contamination, ...)."""
    if exposures.empty:
        return pd.DataFrame(
            columns=["experiment", "variant", "user_id", "anonymous_id", "exposed_at", "kind"]
        )
    uid = exposures["uid"].to_numpy(dtype=np.int64)
    user_id = pd.array(uid, dtype="Int64")
    user_id[uid == 0] = pd.NA
    frame = pd.DataFrame(
        {
            "experiment": exposures["experiment"].to_numpy(dtype=object),
            "variant": exposures["variant"].to_numpy(dtype=object),
            "user_id": user_id,
            "anonymous_id": hex_ids(exposures["anon"].to_numpy(dtype=np.uint64)),
            "exposed_at": iso_times(exposures["t"].to_numpy(dtype=np.int64)),
            "kind": exposures["kind"].to_numpy(dtype=object),
        }
    )
    return frame.sort_values(
        ["exposed_at", "anonymous_id", "experiment", "variant"], kind="mergesort"
    )


def _tables(cfg: GeneratorConfig, day: date, subs, web: dict) -> dict[str, pd.DataFrame]:
    """The CSV sources of the day, each sorted for deterministic bytes."""
    billing = billing_table(cfg, subs, day)
    tickets, nps = tickets_and_nps(cfg, subs, day)
    events: Block = web["events"]
    touched = np.unique(
        np.concatenate(
            [
                events["uid"][events["uid"] > 0],
                billing["user_id"].to_numpy(dtype=np.int64),
                web["usage"]["user_id"].to_numpy(dtype=np.int64),
                tickets["user_id"].to_numpy(dtype=np.int64),
                nps["user_id"].to_numpy(dtype=np.int64),
            ]
        )
    )
    accounts = accounts_table(subs, day, touched).sort_values("user_id")
    return {
        "accounts": accounts,
        "billing_events": billing,
        "products": products_table(date.fromisoformat(cfg.epoch)),
        "orders": web["orders"].sort_values(["ordered_at", "order_id"], kind="mergesort"),
        "product_usage": web["usage"].sort_values("user_id"),
        "support_tickets": tickets.sort_values(["created_at", "ticket_id"], kind="mergesort"),
        "nps_responses": nps,
    }


def _session_arrays(events: Block) -> dict[str, np.ndarray]:
    """One entry per session seen in the day's (clean) events, via sort + reduceat.

    Kept as numbers (not strings) until serialisation, in file order (start, session id).
    """
    order = np.argsort(events["sess"], kind="stable")
    sess = events["sess"][order]
    if not len(sess):
        return {
            k: np.array([], np.int64) for k in ("sess", "uid", "anon", "host", "ua", "start", "end")
        }
    starts = np.flatnonzero(np.r_[True, sess[1:] != sess[:-1]])
    t = events["t"][order]
    first = order[starts]
    out = {
        "sess": sess[starts],
        "uid": np.maximum.reduceat(events["uid"][order], starts),
        "anon": events["anon"][first],
        "host": events["host"][first],
        "ua": events["ua"][first],
        "start": np.minimum.reduceat(t, starts),
        "end": np.maximum.reduceat(t, starts),
    }
    file_order = np.lexsort((out["sess"], out["start"]))
    return {k: v[file_order] for k, v in out.items()}


def _sessions_csv(arrays: dict[str, np.ndarray], chunk: int = 250_000) -> bytes:
    """The sessions CSV, formatted in chunks so only one chunk's strings live at a time."""
    fields = RAW_SOURCES["sessions"].fields
    n = len(arrays["sess"])
    out = []
    for lo in range(0, max(n, 1), chunk):
        a = {k: v[lo : lo + chunk] for k, v in arrays.items()}
        user_id = pd.array(a["uid"], dtype="Int64")
        user_id[a["uid"] == 0] = pd.NA
        frame = pd.DataFrame(
            {
                "session_id": hex_ids(a["sess"], "s_"),
                "user_id": user_id,
                "anonymous_id": hex_ids(a["anon"]),
                "hostname": np.array(HOSTNAMES, dtype=object)[a["host"]],
                "device_type": np.array(catalog.DEVICE_TYPES, dtype=object)[DEVICE_OF_UA[a["ua"]]],
                "started_at": iso_times(a["start"]),
                "ended_at": iso_times(a["end"]),
            }
        )
        text = csv_bytes(frame, fields)
        out.append(text if lo == 0 else text.split(b"\n", 1)[1])
    return b"".join(out)


def _manifest(cfg, day, subs, web, exposures, tables, n_sessions: int) -> dict:
    """Everything planted on ``day``, for tests and readouts to check against."""
    row_mess = web["row_mess"]
    accounts = tables["accounts"]
    lo = day_start_ms(day)
    homepage = exposures[exposures["kind"] == "homepage"] if not exposures.empty else exposures
    homepage_n = homepage["variant"].value_counts().to_dict() if len(homepage) else {}
    counts = {
        **row_mess.counts,
        **web["counts"],
        "null_field_by_field": row_mess.null_by_field,
        "fraud_accounts_in_export": int((accounts["is_fraud"] == "true").sum()),
        "closed_accounts_in_export": int((accounts["is_closed"] == "true").sum()),
        "accounts_closed_today": int(
            ((subs.closed_ms >= lo) & (subs.closed_ms < lo + MS_PER_DAY)).sum()
        ),
        "fraud_signups_today": int(
            (subs.is_fraud & (subs.signup_ms >= lo) & (subs.signup_ms < lo + MS_PER_DAY)).sum()
        ),
    }
    n_lines = web["n_lines"]
    return {
        "ds": day.isoformat(),
        "seed": cfg.seed,
        "generator_version": GENERATOR_VERSION,
        "config": dataclasses.asdict(cfg),
        "volumes": {
            "web_event_lines": n_lines,
            "web_events_clean": web["n_events"]
            - web["counts"]["bot_events"]
            - web["counts"]["late"],
            "rows": {
                **{source: len(frame) for source, frame in tables.items()},
                "sessions": n_sessions,
            },
            "assignments": len(exposures),
            "accounts_total": len(subs),
            "events_by_component": web["by_component"],
        },
        "mess_rates": dataclasses.asdict(cfg.mess),
        "mess_counts": counts,
        "seasonality": seasonality_section(day),
        "experiments": experiment_section(
            cfg, day, saas_truth(cfg, subs, day), shop_truth(cfg, web["cohort"]), homepage_n
        ),
        "mrr_by_month": mrr_by_month(cfg, subs, day),
        "identity_map_file": "identity_map.csv",
        "exposures_file": "exposures.csv",
        "late_event_day": (day - timedelta(days=1)).isoformat(),
    }
