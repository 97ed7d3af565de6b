"""Config validation, the CLI, and writing to S3 (with a fake client, no network)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from include.generator import ExperimentConfig, GeneratorConfig, MessRates, generate_day
from include.generator import writer as writer_mod
from include.generator.__main__ import main


@pytest.mark.parametrize(
    "bad",
    [
        lambda c: replace(c, mess=MessRates(duplicate=1.5)),
        lambda c: replace(c, mess=MessRates(bot=-0.1)),
        lambda c: replace(c, events_per_day=10),
        lambda c: replace(c, seed=-1),
        lambda c: replace(c, epoch="2024-13-01"),
        lambda c: replace(c, experiments=(ExperimentConfig("x", "saas", weights=(0.7, 0.7)),)),
        lambda c: replace(
            c, experiments=(ExperimentConfig("x", "shop", variants=("a",), weights=(1.0,)),)
        ),
        lambda c: replace(c, experiments=(ExperimentConfig("x", "saas", control="nope"),)),
        lambda c: replace(c, experiments=(ExperimentConfig("x", "saas",
                                                           effects={"purchase": 0.1}),)),
        lambda c: replace(c, experiments=(ExperimentConfig("x", "saas", start_date="2023-01-01"),)),
    ],
)  # fmt: skip
def test_invalid_config_is_rejected(bad):
    with pytest.raises(ValueError):
        bad(GeneratorConfig()).validate()


def test_day_before_epoch_is_rejected():
    with pytest.raises(ValueError):
        generate_day("2023-01-01", GeneratorConfig())


def test_three_arms_and_custom_split():
    exp = ExperimentConfig(
        "pdp_redesign", "shop", variants=("control", "b", "c"), weights=(0.5, 0.25, 0.25),
        effects={"purchase": 0.1}, arm_effects={"c": {"purchase": 0.3}},
    )  # fmt: skip
    cfg = replace(GeneratorConfig(events_per_day=20_000), experiments=(exp,))
    files = generate_day("2024-01-10", cfg)
    manifest = json.loads(files["_truth/ds=2024-01-10/manifest.json"])
    arms = manifest["experiments"]["pdp_redesign"]["exposed_today"]
    assert set(arms) == {"control", "b", "c"}
    assert arms["control"]["exposed"] > arms["b"]["exposed"]
    lifts = manifest["experiments"]["pdp_redesign"]["planted_relative_lift"]["purchase"]
    assert lifts == {"b": 0.1, "c": 0.3}
    assert "homepage_cta_test" not in manifest["experiments"]


def test_cli_writes_days(tmp_path, capsys):
    assert main(["--ds", "2024-01-01", "--days", "2", "--root", str(tmp_path),
                 "--scale", "2000", "--seed", "9"]) == 0  # fmt: skip
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["ds"] for o in out] == ["2024-01-01", "2024-01-02"]
    manifest = json.loads((tmp_path / "_truth/ds=2024-01-02/manifest.json").read_text())
    assert manifest["seed"] == 9 and manifest["config"]["events_per_day"] == 2000
    assert (tmp_path / "web_events/ds=2024-01-01/part-00000.jsonl").exists()


class FakeS3:
    """Just enough of boto3's S3 client for write_day."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.puts: list[str] = []
        self.buckets: set[str] = set()

    def head_bucket(self, Bucket):
        if Bucket not in self.buckets:
            raise KeyError(Bucket)

    def create_bucket(self, Bucket):
        self.buckets.add(Bucket)

    def get_paginator(self, name):
        fake = self

        class Paginator:
            def paginate(self, Bucket, Prefix):
                keys = [k for (b, k) in fake.objects if b == Bucket and k.startswith(Prefix)]
                yield {"Contents": [{"Key": k} for k in keys]}

        return Paginator()

    def delete_objects(self, Bucket, Delete):
        for obj in Delete["Objects"]:
            self.objects.pop((Bucket, obj["Key"]), None)

    def put_object(self, Bucket, Key, Body):
        self.objects[(Bucket, Key)] = Body
        self.puts.append(Key)


def test_s3_write_replaces_day_and_writes_manifest_last(monkeypatch):
    fake = FakeS3()
    monkeypatch.setattr(writer_mod, "s3_client", lambda: fake)
    cfg = GeneratorConfig(events_per_day=2_000)
    fake.objects[("raw", "lake/web_events/ds=2024-01-01/part-00042.jsonl")] = b"stale"
    fake.objects[("raw", "lake/web_events/ds=2024-01-02/part-00000.jsonl")] = b"other day"
    writer_mod.write_day("2024-01-01", "s3a://raw/lake", cfg)
    assert ("raw", "lake/web_events/ds=2024-01-01/part-00042.jsonl") not in fake.objects
    assert fake.objects[("raw", "lake/web_events/ds=2024-01-02/part-00000.jsonl")] == b"other day"
    assert fake.puts[-1] == "lake/_truth/ds=2024-01-01/manifest.json"
    assert writer_mod.split_s3_root("s3://bucket") == ("bucket", "")


# ds names the folders write_day deletes: "bogus" would delete {source}/ds=bogus/, a ds with
# "../" a folder outside the root; a day before the epoch fails in the (lazy) generator.
BAD_DAYS = [
    "bogus", "2024-01-01/../../../outside", "2024-02-30", "２０２４-０１-０１", "2023-01-01",
]  # fmt: skip


@pytest.mark.parametrize("ds", BAD_DAYS)
def test_a_bad_day_deletes_nothing_locally(ds, tmp_path):
    root, outside = tmp_path / "raw", tmp_path / "outside"
    keep = [
        root / "web_events" / f"ds={ds}" / "part-00000.jsonl",  # the folder the ds names
        root / "web_events" / "ds=2024-01-01" / "part-00000.jsonl",  # a ../ ds walks through
        outside / "keep.txt",
    ]
    for path in keep:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("keep\n")
    with pytest.raises(ValueError):
        writer_mod.write_day(ds, str(root), GeneratorConfig(events_per_day=2_000))
    assert all(path.read_text() == "keep\n" for path in keep)


@pytest.mark.parametrize("ds", BAD_DAYS)
def test_a_bad_day_deletes_nothing_on_s3(ds, monkeypatch):
    fake = FakeS3()
    monkeypatch.setattr(writer_mod, "s3_client", lambda: fake)
    fake.buckets.add("raw")
    fake.objects[("raw", f"lake/web_events/ds={ds}/part-00000.jsonl")] = b"keep"
    with pytest.raises(ValueError):
        writer_mod.write_day(ds, "s3a://raw/lake", GeneratorConfig(events_per_day=2_000))
    assert fake.objects == {("raw", f"lake/web_events/ds={ds}/part-00000.jsonl"): b"keep"}
    assert fake.puts == []
