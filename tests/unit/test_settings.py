"""Config: the default loads; ${ENV} expands; every problem names the key and the line."""

import pytest

from dashboard.core.settings import DEFAULT_CONFIG, ConfigError, load, parse

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
    assert settings.playlists["operations"] == [
        {"page": "/wall", "seconds": 120.0},
        {"page": "/incidents", "seconds": 30.0},
    ]  # no engineers' page


def test_environment_selects_stores(monkeypatch):
    settings = parse(GOOD, env={"OPSCENTER_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert settings.redis_url == "redis://127.0.0.1:6379/0" and settings.database_url is None


def test_the_frame_store_limit_defaults_to_16_mb():
    assert parse(GOOD).frame_limit_mb == 16.0
    assert parse(GOOD + "frame_limit_mb: 64\n").frame_limit_mb == 64.0


def test_env_expansion(monkeypatch):
    monkeypatch.setenv("OC_TEST_INTERVAL", "42")
    settings = parse(GOOD.replace("interval_s: 10", "interval_s: ${OC_TEST_INTERVAL}"))
    assert settings.sources[0]["interval_s"] == 42.0


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            GOOD.replace("interval_s: 10", "interval_s: ${OC_SURELY_UNSET}"),
            "<config>:5: sources.0.interval_s: environment variable OC_SURELY_UNSET is not set",
        ),
        (GOOD.replace("kind: demo", "kind: nagios"), "<config>:3: sources.0.kind: unknown kind 'nagios'"),
        (GOOD.replace("interval_s: 10", "interval_s: soon"), "<config>:5: sources.0.interval_s: expected a number"),
        (GOOD + "    poll_timeout_s: 0\n", "<config>:6: sources.0.poll_timeout_s: must be greater than 0"),
        (GOOD + "    max_rows: lots\n", "<config>:6: sources.0.max_rows: expected a number"),
        (GOOD + "display_tz: Mars/Olympus\n", "<config>:6: display_tz: unknown time zone"),
        (GOOD + "langauge: en\n", "<config>:6: langauge: unknown key"),
        (GOOD + "frame_limit_mb: 0\n", "<config>:6: frame_limit_mb: must be greater than 0"),
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


def test_auth_defaults_to_none():
    auth = parse(GOOD).auth
    assert auth.mode == "none" and auth.open_paths == ("/health", "/metrics") and auth.cookie_secure


def test_proxy_auth(monkeypatch):
    settings = parse(
        GOOD
        + """\
auth:
  mode: proxy
  user_header: X-Remote-User
  groups_header: X-Remote-Groups
  trusted_proxies: [10.0.0.5, 192.168.0.0/24, "::1"]
  group_roles: {ops-managers: manager, ops-audit: auditor}
  default_role: viewer
"""
    )
    auth = settings.auth
    assert auth.mode == "proxy" and auth.user_header == "X-Remote-User"
    assert [str(n) for n in auth.trusted_proxies] == ["10.0.0.5/32", "192.168.0.0/24", "::1/128"]
    assert auth.group_roles == {"ops-managers": "manager", "ops-audit": "auditor"} and auth.default_role == "viewer"


def test_builtin_auth_takes_its_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("OC_TEST_SECRET", "s" * 40)
    auth = parse(GOOD + "auth:\n  mode: builtin\n  secret_key: ${OC_TEST_SECRET}\n  cookie_secure: false\n").auth
    assert auth.secret_key == "s" * 40 and not auth.cookie_secure
    assert "s" * 40 not in repr(auth)


@pytest.mark.parametrize(
    "auth, expected",
    [
        ("auth:\n  mode: ldap\n", "<config>:7: auth.mode: expected one of none, proxy, builtin"),
        ("auth:\n  mode: proxy\n", "<config>:7: auth.trusted_proxies: proxy mode needs the addresses"),
        (
            "auth:\n  mode: proxy\n  trusted_proxies: [10.0.0.300]\n",
            "<config>:8: auth.trusted_proxies.0: '10.0.0.300' is not an IP address or CIDR network",
        ),
        (
            "auth:\n  mode: proxy\n  trusted_proxies: [127.0.0.1]\n  group_roles: {ops: superuser}\n",
            "<config>:9: auth.group_roles.ops: expected one of viewer, manager, auditor, admin",
        ),
        (
            "auth:\n  mode: proxy\n  trusted_proxies: [127.0.0.1]\n  user_header: 'X User: me'\n",
            "<config>:9: auth.user_header: expected an HTTP header name",
        ),
        ("auth:\n  mode: builtin\n", "<config>:7: auth.secret_key: builtin mode needs a secret key of at least 32"),
        (
            "auth:\n  mode: builtin\n  secret_key: ${OC_SURELY_UNSET}\n",
            "<config>:8: auth.secret_key: environment variable OC_SURELY_UNSET is not set",
        ),
        ("auth:\n  mode: none\n  open_paths: [health]\n", "<config>:8: auth.open_paths: expected a list of paths"),
        ("auth:\n  mode: none\n  passwords: {alice: x}\n", "<config>:8: auth.passwords: unknown key"),
        ("auth:\n  default_role: root\n", "<config>:7: auth.default_role: expected one of"),
        ("auth: builtin\n", "<config>:6: auth: expected a mapping"),
    ],
)
def test_auth_errors_name_key_and_line(auth, expected):
    with pytest.raises(ConfigError) as error:
        parse(GOOD + auth)
    assert str(error.value).startswith(expected)


def test_capacity_market_chooses_the_calendar():
    assert parse(GOOD).capacity["market"] == "cn"
    assert parse(GOOD + "capacity:\n  market: hk\n").capacity["market"] == "hk"
    with pytest.raises(ConfigError) as info:
        parse(GOOD + "capacity:\n  market: nyse\n")
    assert str(info.value).startswith("<config>:7: capacity.market: expected one of cn, hk"), str(info.value)


CALENDAR = """\
calendar:
  futures_night: {enabled: true, from: "21:00", to: "02:30"}
  closures:
    - {market: hk, from: "2026-09-16 09:00", to: "2026-09-16 16:10", reason: Typhoon signal No. 8}
    - {market: cn, from: "2026-09-17T01:00:00Z", to: "2026-09-17T07:00:00Z", reason: Market-wide halt}
"""


def test_calendar_declares_the_night_session_and_closures():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    assert parse(GOOD).calendar.futures_night is None and parse(GOOD).calendar.closures == ()
    calendar = parse(GOOD + CALENDAR).calendar
    assert calendar.futures_night == ("21:00", "02:30")
    typhoon, halt = calendar.closures
    assert typhoon.start == datetime(2026, 9, 16, 9, 0, tzinfo=ZoneInfo("Asia/Hong_Kong"))  # local to the market
    assert (typhoon.market, typhoon.reason) == ("hk", "Typhoon signal No. 8")
    assert halt.end == datetime(2026, 9, 17, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "calendar, expected",
    [
        ("calendar:\n  futures_night: {enabled: yes please}\n", "<config>:7: calendar.futures_night.enabled:"),
        ("calendar:\n  futures_night: {enabled: true, from: '25:00'}\n", "<config>:7: calendar.futures_night.from:"),
        (
            "calendar:\n  closures:\n    - {market: nyse, from: 2026-01-05, to: 2026-01-06, reason: x}\n",
            "<config>:8: calendar.closures.0.market",
        ),
        (
            "calendar:\n  closures:\n    - {market: hk, from: soon, to: 2026-01-06, reason: x}\n",
            "<config>:8: calendar.closures.0.from",
        ),
        (
            "calendar:\n  closures:\n    - {market: hk, from: 2026-01-06, to: 2026-01-05, reason: x}\n",
            "<config>:8: calendar.closures.0.to",
        ),
        ("calendar:\n  closures:\n    - {market: hk, from: 2026-01-05}\n", "<config>:8: calendar.closures.0: expected"),
        ("calendar:\n  holidays: []\n", "<config>:6: calendar: expected a mapping"),
    ],
)
def test_calendar_errors_name_key_and_line(calendar, expected):
    with pytest.raises(ConfigError) as error:
        parse(GOOD + calendar)
    assert expected in str(error.value), str(error.value)


def test_freeze_declares_sessions_and_windows_local_to_the_display_zone():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    assert parse(GOOD).freeze.sessions is True and parse(GOOD).freeze.windows == ()
    settings = parse(
        GOOD
        + "freeze:\n  sessions: false\n  windows:\n"
        + "    - {name: Rebalancing, start: 2026-12-11, end: 2026-12-12, markets: [cn], chains: [trading]}\n"
    )
    (window,) = settings.freeze.windows
    assert settings.freeze.sessions is False
    assert window.start == datetime(2026, 12, 11, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert (window.name, window.markets, window.chains) == ("Rebalancing", ("cn",), ("trading",))
    assert len(load(DEFAULT_CONFIG).freeze.windows) >= 2


@pytest.mark.parametrize(
    "freeze, expected",
    [
        ("freeze:\n  sessions: sometimes\n", "<config>:7: freeze.sessions: expected true or false"),
        ("freeze:\n  holidays: []\n", "<config>:7: freeze.holidays: unknown key"),
        ("freeze:\n  windows:\n    - {name: x, start: 2026-12-11}\n", "<config>:8: freeze.windows.0: expected"),
        ("freeze:\n  windows:\n    - {name: x, start: 2026-12-11, end: 2026-12-10}\n", "freeze.windows.0.end"),
        ("freeze:\n  windows:\n    - {name: x, start: 2026-12-11, end: 2026-12-12, markets: [nyse]}\n", "markets"),
    ],
)
def test_freeze_errors_name_key_and_line(freeze, expected):
    with pytest.raises(ConfigError) as error:
        parse(GOOD + freeze)
    assert expected in str(error.value), str(error.value)


SLO = """\
slo:
  window_days: 28
  default: {availability: 0.999}
  chains:
    hk-trading: {market: hk, latency_p99_ms: 80}
  alerts:
    - {severity: page, burn: 10, long_min: 60, short_min: 5}
"""


def test_slo_objectives_a_chain_overrides_on_the_default():
    from dashboard.analytics.slo import BurnAlert

    settings = parse(GOOD + SLO).slo
    assert settings.window_days == 28 and settings.alerts == (BurnAlert("page", 10.0, 60, 5),)
    assert settings.of("other").availability == 0.999 and settings.of("other").market == "cn"
    hk = settings.of("hk-trading")
    assert (hk.market, hk.availability, hk.latency_p99_ms, hk.latency_target) == ("hk", 0.999, 80.0, 0.99)
    assert parse(GOOD).slo.of("x").availability == 0.995  # the built-in default


@pytest.mark.parametrize(
    "section, message",
    [
        ("slo:\n  default: {availability: 99.9}\n", "slo.default.availability: must be a ratio below 1"),
        ("slo:\n  chains: {a: {market: nyse}}\n", "slo.chains.a.market: expected one of cn, hk, futures"),
        ("slo:\n  window_days: 365\n", "slo.window_days: expected a whole number of days from 1 to 90"),
        ("slo:\n  alerts: [{severity: page, burn: 14.4, long_min: 5, short_min: 60}]\n", "slo.alerts.0: expected"),
        ("slo:\n  budget: 1\n", "slo.budget: unknown key"),
    ],
)
def test_slo_mistakes_are_located(section, message):
    with pytest.raises(ConfigError) as info:
        parse(GOOD + section)
    assert message in str(info.value), str(info.value)


def test_business_headlines_name_a_figure_and_its_thresholds():
    assert load().health["business"]["equity-trading"] == {"metric": "order_success_ratio", "warn": 0.99, "crit": 0.97}
    sources = "sources: [{kind: demo, name: demo}]\n"
    assert parse(sources + "health: {}").health["business"] == {}
    with pytest.raises(ConfigError, match="expected one of order_success_ratio"):
        parse(sources + "health:\n  business:\n    accounts: {metric: happiness, warn: 1, crit: 0}\n")
    with pytest.raises(ConfigError, match="expected a mapping with metric, warn and crit"):
        parse(sources + "health:\n  business:\n    accounts: {metric: transfers_per_s, warn: 1}\n")
