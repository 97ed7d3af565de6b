"""Quality gates: Great Expectations suites from ``expectations/`` run on one ``ds`` partition.

A suite file (``expectations/<suite>.json``) is GX 1.x's own suite format plus two keys of
ours: ``table`` (the contract it guards) and, per expectation, ``meta.severity``:
``block`` (a failure stops the pipeline: the task fails, downstream tasks do not run) or
``warn`` (recorded, shown in the readout's trust panel, does not stop anything).

Every run is validated through a GX Checkpoint in a file-backed context of its day,
``{gx_dir}/ds=YYYY-MM-DD`` (``LAKEHOUSE_GX_DIR``, by default ``var/gx``; see
:func:`gx_root`), whose UpdateDataDocsAction renders the static HTML report (Data Docs); the
result of each rule is also written to ``gold.quality_results`` so readouts and analysts can
query it. A blocking failure raises
:class:`QualityGateFailed` with the table, the ds, the rule and a sample of offending values.

Derived checks (``include.quality_checks``) are rules GX cannot state on the raw partition
(week-over-week counts, rollup sizes, the MRR bridge identity, funnel ordering): Spark derives
a small frame, and the expectations of the suite whose ``meta.check`` names that check are
validated on it (``validate(..., check=name)``). Those frames are tiny, so they are collected
and validated with GX's pandas engine (a Spark-engine validation costs several Spark jobs per
expectation); the rules still go through the same Checkpoint and Data Docs. Expectations
without ``meta.check`` are the row-level rules, validated on the partition itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from include.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SEVERITIES = ("block", "warn")
log = logging.getLogger(__name__)


class QualityGateFailed(RuntimeError):
    """A blocking expectation failed; the message says which table, ds, rule and rows, and
    the attributes carry them for the failure alert (``include.alerts``)."""

    def __init__(self, message: str, *, table: str | None = None, suite: str | None = None,
                 ds: str | None = None, rules: tuple[str, ...] = (),
                 data_docs: str | None = None):  # fmt: skip
        super().__init__(message)
        self.table, self.suite, self.ds = table, suite, ds
        self.rules, self.data_docs = tuple(rules), data_docs


@dataclass
class RuleResult:
    rule: str
    expectation: str
    kwargs: dict[str, Any]
    severity: str
    success: bool
    observed: str
    unexpected_count: int | None
    sample: list[Any] = field(default_factory=list)


@dataclass
class GateResult:
    table: str
    suite: str
    ds: str
    rules: list[RuleResult]
    data_docs: str | None

    @property
    def blocking_failures(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.success and r.severity == "block"]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.success and r.severity == "warn"]

    @property
    def status(self) -> str:
        if self.blocking_failures:
            return "fail"
        return "warn" if self.warnings else "pass"

    def message(self) -> str:
        lines = [f"quality gate {self.suite} on {self.table} ds={self.ds}: {self.status.upper()}"]
        for r in self.rules:
            if not r.success:
                lines.append(
                    f"  [{r.severity}] rule '{r.rule}' ({r.expectation} {_fmt_kwargs(r.kwargs)}) "
                    f"failed: {r.observed}; sample of offending values: {r.sample[:10]}"
                )
        if self.data_docs:
            lines.append(f"  validation report: {self.data_docs}")
        return "\n".join(lines)


def _fmt_kwargs(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k != "result_format")


def load_suite_file(suite: str, directory: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    path = directory / f"{suite}.json"
    if not path.exists():
        raise FileNotFoundError(f"expectation suite {suite!r} not found at {path}")
    spec = json.loads(path.read_text())
    for key in ("name", "table", "expectations"):
        if key not in spec:
            raise ValueError(f"{path}: missing key {key!r}")
    for exp in spec["expectations"]:
        meta = exp.setdefault("meta", {})
        if meta.get("severity") not in SEVERITIES:
            raise ValueError(f"{path}: {exp['type']} needs meta.severity in {SEVERITIES}")
        if not meta.get("rule"):
            raise ValueError(f"{path}: {exp['type']} needs meta.rule (a human-readable name)")
    return spec


def gx_root(settings: Settings, ds: str) -> Path:
    """The GX project (stores and Data Docs) of one ``ds``: ``{gx_dir}/ds=YYYY-MM-DD``.

    One project per day keeps a gate's cost flat as history grows: GX's UpdateDataDocsAction
    rebuilds the site index from every validation result in the project's store (it lists
    and parses every key, and loads every result it links), so a single project shared by
    all days made each gate run slower by a little every day (on the benchmark's history
    run, gates took 30-60 % longer by day 23). Parallel runs of different days no longer
    share project files either. ``gold.quality_results`` is the cross-day record.
    """
    from include.tables import validate_ds

    return settings.gx_dir / f"ds={validate_ds(ds)}"


def data_docs_index(settings: Settings, ds: str) -> Path:
    """The Data Docs index page (the validation report) of one ``ds``."""
    site = gx_root(settings, ds) / "gx" / "uncommitted" / "data_docs" / "local_site"
    return site / "index.html"


def _context(settings: Settings, ds: str):
    import great_expectations as gx

    root = gx_root(settings, ds)
    root.mkdir(parents=True, exist_ok=True)
    return gx.get_context(mode="file", project_root_dir=str(root))


@contextmanager
def project_lock(settings: Settings, ds: str):
    """Hold the day's GX project for one validation. Gate tasks of a day run side by side
    (the sources, finance and experiment gates) and GX's file context rewrites
    ``great_expectations.yml`` as datasources are added: a context opened while another
    process writes it read a half-written file (seen in the demo: ``TypeError: argument of
    type 'NoneType' is not iterable`` loading the fluent datasources). An exclusive
    ``flock`` on ``<project>/.lock`` serialises the GX part of each validation; reading the
    partition (Spark) happens before it, outside the lock."""
    import fcntl

    root = gx_root(settings, ds)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def suite_expectations(spec: dict[str, Any], check: str | None = None) -> list[dict]:
    """The row-level expectations of a suite (``check=None``) or those of one derived check."""
    return [e for e in spec["expectations"] if (e.get("meta") or {}).get("check") == check]


def suite_checks(spec: dict[str, Any]) -> list[str]:
    """Names of the derived checks a suite has expectations for, in file order."""
    names: list[str] = []
    for e in spec["expectations"]:
        check = (e.get("meta") or {}).get("check")
        if check and check not in names:
            names.append(check)
    return names


def validate(
    df: Any,
    suite: str,
    ds: str,
    settings: Settings,
    *,
    spec: dict | None = None,
    batch_name: str | None = None,
    check: str | None = None,
    index_columns: list[str] | None = None,
    table: str | None = None,
) -> GateResult:
    """Validate ``df`` against a suite; never raises on a failed expectation (see
    :func:`enforce`).

    ``df`` is a Spark DataFrame (one partition) or, for a derived check, a pandas DataFrame
    (see :func:`to_pandas`). ``check`` selects the expectations whose ``meta.check`` is that
    derived check (``None``: the row-level ones); ``index_columns`` name the columns that
    identify an offending row in the sample; ``table`` overrides the suite's ``table`` (a
    suite shared by several tables, e.g. every experiment's outcomes).
    """
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    spec = dict(spec or load_suite_file(suite))
    spec["expectations"] = suite_expectations(spec, check)
    if check:
        spec["name"] = f"{spec['name']}__{check}"
    table = table or spec["table"]
    with project_lock(settings, ds):
        context = _context(settings, ds)
        if _is_pandas(df):
            source = context.data_sources.add_or_update_pandas("lakehouse_pandas")
        else:
            source = context.data_sources.add_or_update_spark("lakehouse_spark")
        asset_name = batch_name or check or spec["table"]
        try:
            asset = source.get_asset(asset_name)
        except LookupError:
            asset = source.add_dataframe_asset(asset_name)
        try:
            batch_def = asset.get_batch_definition("partition")
        except (KeyError, LookupError):
            batch_def = asset.add_batch_definition_whole_dataframe("partition")
        gx_suite = context.suites.add_or_update(
            gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"])
        )
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(
                name=f"{spec['name']}__{asset_name}", data=batch_def, suite=gx_suite
            )
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"gate__{spec['name']}__{asset_name}",
                validation_definitions=[definition],
                actions=[UpdateDataDocsAction(name="update_data_docs")],
                result_format=_result_format(index_columns),
            )
        )
        try:
            run = checkpoint.run(
                batch_parameters={"dataframe": df},
                run_id=RunIdentifier(run_name=f"{spec['name']}-{ds}"),
            )
        finally:
            if not _is_pandas(df):
                # GX's Spark engine persists the batch and never releases it: in one JVM (a
                # task gating several tables, the benchmark's whole day) those caches piled up
                # until a 10M-event day ran out of heap in the next job.
                df.unpersist()
    rules = []
    for validation in run.run_results.values():
        for res in validation.results:
            cfg = res.expectation_config
            meta = cfg.meta or {}
            result = res.result or {}
            sample = (
                result.get("partial_unexpected_index_list")
                or result.get("partial_unexpected_list")
                or []
            )
            observed = (
                f"{result.get('unexpected_count')} unexpected of {result.get('element_count')}"
                if "unexpected_count" in result
                else f"observed {result.get('observed_value')!r}"
            )
            severity = meta.get("severity", "block")
            errored = _raised(res)
            if errored:
                # A rule GX could not evaluate (a metric query died: out of memory, a column
                # gone, the store unreachable) vouches for nothing: it blocks, even a rule
                # whose failure would only warn, and never counts as passed.
                observed = (
                    f"error (could not be evaluated, so it blocks; suite severity {severity!r}): "
                    + errored[:500]
                )
                severity = "block"
            rules.append(
                RuleResult(
                    rule=meta.get("rule", cfg.type),
                    expectation=cfg.type,
                    kwargs={k: v for k, v in cfg.kwargs.items() if k != "batch_id"},
                    severity=severity,
                    success=bool(res.success) and not errored,
                    observed=observed,
                    unexpected_count=result.get("unexpected_count"),
                    sample=[_jsonable(v) for v in sample],
                )
            )
    index = data_docs_index(settings, ds)
    return GateResult(
        table=table,
        suite=spec["name"],
        ds=ds,
        rules=rules,
        data_docs=str(index) if index.exists() else None,
    )


def _raised(res: Any) -> str | None:
    """The exception message if GX could not evaluate this expectation, else None.

    GX 1.x reports a failed metric on the result's ``exception_info``: either flat
    (``raised_exception``, ``exception_message``) or keyed by metric id, one such dict each.
    """
    info = res.exception_info or {}
    found = [info] if "raised_exception" in info else list(info.values())
    flat = []  # a metric's entry may be one ExceptionInfo (a dict) or a set of them
    for entry in found:
        flat.extend(entry if isinstance(entry, (set, list, tuple)) else [entry])
    messages = [
        str(e.get("exception_message") or "exception")
        for e in flat
        if isinstance(e, dict) and e.get("raised_exception")
    ]
    return "; ".join(messages) if messages else None


def _result_format(index_columns: list[str] | None) -> dict[str, Any]:
    fmt: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
    if index_columns:
        fmt["unexpected_index_column_names"] = list(index_columns)
    return fmt


def _is_pandas(df: Any) -> bool:
    return type(df).__module__.startswith("pandas")


def to_pandas(df: DataFrame):
    """Collect a small derived Spark frame for GX's pandas engine (decimals become floats,
    dates and timestamps ISO strings, so samples and Data Docs render plainly)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, DecimalType, TimestampType

    cols = []
    for f in df.schema.fields:
        if isinstance(f.dataType, DecimalType):
            cols.append(F.col(f.name).cast("double").alias(f.name))
        elif isinstance(f.dataType, DateType | TimestampType):
            cols.append(F.col(f.name).cast("string").alias(f.name))
        else:
            cols.append(F.col(f.name))
    from include.engine import to_pandas as collect

    return collect(df.select(*cols))


def merge(table: str, suite: str, ds: str, results: list[GateResult]) -> GateResult:
    """One gate verdict from the row-level and derived validations of one table."""
    docs = next((r.data_docs for r in reversed(results) if r.data_docs), None)
    return GateResult(
        table=table,
        suite=suite,
        ds=ds,
        rules=[rule for r in results for rule in r.rules],
        data_docs=docs,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return value.item()
        except (ValueError, TypeError):
            pass
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def enforce(result: GateResult) -> GateResult:
    """Log the gate's verdict; raise if any blocking rule failed."""
    if result.blocking_failures:
        log.error(result.message())
        raise QualityGateFailed(
            result.message(), table=result.table, suite=result.suite, ds=result.ds,
            rules=tuple(r.rule for r in result.blocking_failures), data_docs=result.data_docs,
        )
    if result.warnings:
        log.warning(result.message())
    else:
        log.info(result.message())
    return result


def gate_statuses(
    rows: Iterable[Mapping[str, Any]], suites: Iterable[str] | None = None
) -> dict[str, str]:
    """Worst status per suite of gold.quality_results rows ('fail' > 'warn' > 'pass').

    ``suites``: only these (a readout judges the gates of the tables it depends on, not
    unrelated ones that happen to have run on the same day).
    """
    wanted = set(suites) if suites is not None else None
    rank = {"pass": 0, "warn": 1, "fail": 2}
    out: dict[str, str] = {}
    for row in rows:
        if wanted is not None and row["suite"] not in wanted:
            continue
        status = "pass" if row["success"] else ("fail" if row["severity"] == "block" else "warn")
        if rank[status] >= rank[out.get(row["suite"], "pass")]:
            out[row["suite"]] = status
    return out
