"""Synthetic source generator: one company's raw web, experiment, account and finance data.

Public API::

    from include.generator import GeneratorConfig, generate_day, write_day
    files = generate_day("2024-01-05", GeneratorConfig(seed=7, events_per_day=50_000))
    write_day("2024-01-05", "s3a://raw", GeneratorConfig())

CLI: ``python -m include.generator --ds 2024-01-01 --days 3 --root var/raw``.
See ``generate.py`` for the design (pure function of (seed, ds); no state between days).
"""

from include.generator.config import ExperimentConfig, FunnelRates, GeneratorConfig, MessRates
from include.generator.generate import generate_day, iter_day, source_path, truth_path
from include.generator.writer import write_day

__all__ = [
    "ExperimentConfig",
    "FunnelRates",
    "GeneratorConfig",
    "MessRates",
    "generate_day",
    "iter_day",
    "source_path",
    "truth_path",
    "write_day",
]
