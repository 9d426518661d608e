from __future__ import annotations

import pytest

from infra.settings import ALL_SETTINGS, ApiSettings, BrokerSettings, env_name


def test_every_setting_is_documented() -> None:
    missing = [env_name(cls, f) for cls in ALL_SETTINGS for f, info in cls.model_fields.items() if not info.description]
    assert missing == []


def test_env_vars_are_unique() -> None:
    names = [env_name(cls, f) for cls in ALL_SETTINGS for f in cls.model_fields]
    assert len(names) == len(set(names))


def test_env_var_overrides_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELENE_API_PORT", "9999")
    monkeypatch.setenv("SELENE_KAFKA_BOOTSTRAP", "kafka-a:19092,kafka-b:19092")
    assert ApiSettings().port == 9999
    broker = BrokerSettings()
    assert (broker.host, broker.port) == ("kafka-a", 19092)


def test_bad_env_value_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELENE_API_PORT", "99999")
    with pytest.raises(ValueError, match="port"):
        ApiSettings()
