"""Quality-gate test fixtures: settings with a private GX state directory."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings(lakehouse_env, tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_STATE_DIR", str(tmp_path / "state"))
    from include.settings import load_settings

    return load_settings()
