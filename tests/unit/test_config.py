"""The desk refuses to start unsafe: no secret keys in production, no debug, no default secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, Settings, generate_keys


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "REFERRALS_ENV": "production",
        "DATABASE_URL": "sqlite:///x.db",
        "INSTANCE_PATH": str(tmp_path),
        **generate_keys(),
    }
    env.update(overrides)
    return env


def test_production_starts_with_explicit_distinct_keys(tmp_path: Path) -> None:
    settings = Settings.from_env(_env(tmp_path))
    assert settings.is_production
    assert settings.active_key_id == "k1"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEYS", "LINKAGE_KEY", "AUDIT_KEY"])
def test_production_refuses_a_missing_key(tmp_path: Path, missing: str) -> None:
    env = _env(tmp_path)
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env)


def test_refuses_linkage_key_equal_to_encryption_key(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env["LINKAGE_KEY"] = env["ENCRYPTION_KEYS"].split(":", 1)[1]
    with pytest.raises(ConfigError, match="must be different"):
        Settings.from_env(env)


def test_refuses_a_weak_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        Settings.from_env(_env(tmp_path, LINKAGE_KEY="c2hvcnQ"))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env(_env(tmp_path, SECRET_KEY="too-short"))


def test_refuses_an_unknown_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REFERRALS_ENV"):
        Settings.from_env(_env(tmp_path, REFERRALS_ENV="staging"))


def test_development_creates_keys_once_in_the_instance_folder(tmp_path: Path) -> None:
    first = Settings.from_env({"REFERRALS_ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    second = Settings.from_env({"REFERRALS_ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    assert first.linkage_key == second.linkage_key
    assert (tmp_path / "dev-keys.json").stat().st_mode & 0o777 == 0o600
    assert first.database_url.endswith("referrals.db")
