"""The orchestrator service's settings: flags over environment over config file over defaults, each value checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmg.core.errors import ConfigError
from orchestrator.service.settings import DEFAULT_PORT, OrchestratorSettings


def test_defaults() -> None:
    settings = OrchestratorSettings()
    assert settings.port == DEFAULT_PORT == 7421 and settings.url == "http://127.0.0.1:7421"
    assert settings.data_dir.parts[-2:] == ("dmg", "orchestrator") and settings.registry == "" and settings.policy == ""


def test_flags_over_environment_over_file(tmp_path: Path) -> None:
    config = tmp_path / "orchestrator.toml"
    config.write_text('port = 7000\nworkers = 2\nregistry = "http://file"\nhttp_timeout = 3\ngraphiql = false\n')
    environ = {
        "DMG_ORCHESTRATOR_CONFIG": str(config),
        "DMG_ORCHESTRATOR_PORT": "7100",
        "DMG_ORCHESTRATOR_GRAPHIQL": "yes",
    }
    settings = OrchestratorSettings.load({"port": 7200, "workers": None}, environ)
    assert (settings.port, settings.workers, settings.registry) == (7200, 2, "http://file")
    assert settings.http_timeout == 3.0 and settings.graphiql is True
    assert OrchestratorSettings.load({}, environ).port == 7100
    assert OrchestratorSettings.load({"data_dir": tmp_path}, {}).data_dir == tmp_path


@pytest.mark.parametrize(
    ("flags", "environ", "message"),
    [
        ({"port": 70000}, {}, "port: 70000 is not a TCP port"),
        ({"workers": 0}, {}, "workers: 0 must be at least 1"),
        ({"max_body_bytes": 10}, {}, "max_body_bytes: 10 is below 64 KiB"),
        ({"http_timeout": 0.0}, {}, "http_timeout: 0.0 must be positive"),
        ({"host": ""}, {}, "host: must not be empty"),
        ({"colour": "blue"}, {}, "unknown setting 'colour'"),
        ({}, {"DMG_ORCHESTRATOR_PORT": "many"}, "DMG_ORCHESTRATOR_PORT: 'many' is not an integer"),
        ({}, {"DMG_ORCHESTRATOR_GRAPHIQL": "maybe"}, "'maybe' is not a boolean"),
    ],
)
def test_bad_settings_say_where_they_came_from(flags: dict[str, object], environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        OrchestratorSettings.load(flags, environ)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = '7000'", "port: '7000' is not an integer"),
        ("colour = 1", "unknown setting 'colour'"),
        ("port = ", "is not valid TOML"),
    ],
)
def test_bad_config_files(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "orchestrator.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        OrchestratorSettings.load(config_file=config)
    with pytest.raises(ConfigError, match="No such file"):
        OrchestratorSettings.load(config_file=tmp_path / "missing.toml")
