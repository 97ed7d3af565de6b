"""Constants and the ``Day`` reader shared by the generator tests (imported by conftest)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from include.generator import GeneratorConfig, MessRates

DS = "2024-01-10"


@dataclass
class Day:
    """One generated day, with helpers to read its files back."""

    ds: str
    config: GeneratorConfig
    files: dict[str, bytes]

    @property
    def manifest(self) -> dict:
        return json.loads(self.files[f"_truth/ds={self.ds}/manifest.json"])

    def paths(self, source: str) -> list[str]:
        return sorted(p for p in self.files if p.startswith(f"{source}/ds={self.ds}/"))

    def lines(self, source: str) -> list[str]:
        out: list[str] = []
        for p in self.paths(source):
            out.extend(self.files[p].decode().splitlines())
        return out

    def records(self, source: str) -> list[dict]:
        """Parsed JSON lines, skipping the deliberately truncated ones (cached per source)."""
        cache = self.__dict__.setdefault("_records", {})
        if source not in cache:
            cache[source] = self._parse(source)
        return cache[source]

    def _parse(self, source: str) -> list[dict]:
        parsed = []
        for line in self.lines(source):
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return parsed

    def rows(self, source: str) -> list[dict]:
        """CSV rows (header from the file)."""
        out: list[dict] = []
        for p in self.paths(source):
            out.extend(csv.DictReader(io.StringIO(self.files[p].decode())))
        return out

    def truth_csv(self, name: str) -> list[dict]:
        return list(csv.DictReader(io.StringIO(self.files[f"_truth/ds={self.ds}/{name}"].decode())))


SMALL = GeneratorConfig(seed=7, events_per_day=20_000)
MESSY = GeneratorConfig(
    seed=11,
    events_per_day=60_000,
    events_per_part=25_000,
    mess=MessRates(
        duplicate=0.05, multi_id=0.05, contamination=0.05, late=0.04, out_of_order=0.3,
        conversion_before_exposure=0.05, null_field=0.02, bad_hostname=0.02,
        unknown_action=0.02, unparsable=0.01, bot=0.1, fraud=0.05, closed=0.05,
    ),
)  # fmt: skip
