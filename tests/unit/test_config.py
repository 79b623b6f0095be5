"""Settings read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragrec.config import Settings


def test_relative_home_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`RAGREC_HOME=.ragrec/test ragrec services down` must find the servers it started:
    they run from another folder, so the home is fixed from the caller's folder once."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAGREC_HOME", "stack/home")
    settings = Settings()
    assert settings.home == tmp_path / "stack" / "home"
    assert settings.neo4j_home.is_absolute() and settings.pg_data_dir.is_absolute()
