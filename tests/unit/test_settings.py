"""Config: the default loads; ${ENV} expands; every problem names the key and the line."""
import pytest

from dashboard.settings import DEFAULT_CONFIG, ConfigError, load, parse

GOOD = """\
center_name: Test center
sources:
  - kind: demo
    name: demo
    interval_s: 10
"""


def test_default_config_loads():
    settings = load(DEFAULT_CONFIG)
    assert settings.source_names == ["demo"]
    assert settings.display_tz == "Asia/Shanghai"
    assert settings.health["tiers"][1]["p95_ms"] == 300
    assert settings.playlists["operations"][0] == {"page": "/wall", "seconds": 120.0}


def test_environment_selects_stores(monkeypatch):
    settings = parse(GOOD, env={"OPSCENTER_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert settings.redis_url == "redis://127.0.0.1:6379/0" and settings.database_url is None


def test_env_expansion(monkeypatch):
    monkeypatch.setenv("OC_TEST_INTERVAL", "42")
    settings = parse(GOOD.replace("interval_s: 10", "interval_s: ${OC_TEST_INTERVAL}"))
    assert settings.sources[0]["interval_s"] == 42.0


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD.replace("interval_s: 10", "interval_s: ${OC_SURELY_UNSET}"),
         "<config>:5: sources.0.interval_s: environment variable OC_SURELY_UNSET is not set"),
        (GOOD.replace("kind: demo", "kind: nagios"), "<config>:3: sources.0.kind: unknown kind 'nagios'"),
        (GOOD.replace("interval_s: 10", "interval_s: soon"), "<config>:5: sources.0.interval_s: expected a number"),
        (GOOD + "display_tz: Mars/Olympus\n", "<config>:6: display_tz: unknown time zone"),
        (GOOD + "langauge: en\n", "<config>:6: langauge: unknown key"),
        (GOOD + "  - kind: demo\n    name: demo\n", "<config>:7: sources.1.name: duplicate source name"),
        (GOOD + "health:\n  tiers:\n    4: {p95_ms: 1}\n", "<config>:8: health.tiers.4: tier must be 1, 2 or 3"),
        ("sources: [\n", "<config>:2: not valid YAML"),
        ("center_name: x\n", "<config>:1: sources: expected a non-empty list"),
    ],
)
def test_errors_name_key_and_line(text, expected):
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert str(info.value).startswith(expected), str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load(tmp_path / "absent.yaml")
