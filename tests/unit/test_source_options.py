"""Source options are checked when the config loads, against each kind's declared model: a typo or a
literal secret is a config error naming the file, line and key; the reference in docs/ is generated
from the same models."""

import json
import re
from pathlib import Path

import pytest

from dashboard.core.settings import ConfigError, parse
from datasources import registry
from datasources.base import Source
from datasources.options import BEGIN, END, reference, secret_keys

ROOT = Path(__file__).resolve().parents[2]
# the keys a kind needs before it loads; every other key has a default
NEEDED = {"url": "http://127.0.0.1:9090", "path": "/var/lib/opscenter"}
EXTRA = {"sql": {"url": "sqlite://", "incidents": {"table": "incidents"}}}


def minimal(kind: str) -> dict:
    model = registry.kinds()[kind].options_model
    needed = {
        key: NEEDED[key]
        for key, info in model.model_fields.items()
        if info.is_required() and key not in ("kind", "name")
    }
    return {**needed, **EXTRA.get(kind, {})}


def config(kind: str, *lines: str) -> str:
    """A config with one source of ``kind``: its minimal keys, then ``lines``, which start on line 4 + the
    number of minimal keys."""
    body = [f"    {key}: {json.dumps(value)}" for key, value in minimal(kind).items()]
    return (
        "\n".join(["sources:", f"  - kind: {kind}", "    name: under-test", *body, *(f"    {line}" for line in lines)])
        + "\n"
    )


def typo(key: str) -> str:
    """``key`` with its second letter left out (``bearer_token`` -> ``barer_token``)."""
    return key[0] + key[2:]


KINDS = sorted(registry.builtins())
DECLARED = [
    (kind, key)
    for kind in KINDS
    for key in registry.kinds()[kind].options_model.model_fields
    if key not in ("kind", "name")
]
SECRETS = [(kind, key) for kind in KINDS for key in secret_keys(registry.kinds()[kind].options_model)]


@pytest.mark.parametrize("kind", KINDS)
def test_a_minimal_source_of_every_kind_loads(kind):
    assert parse(config(kind)).sources[0]["kind"] == kind


@pytest.mark.parametrize("kind, key", DECLARED)
def test_a_typo_in_any_option_is_an_error_at_its_line(kind, key):
    line = 4 + len(minimal(kind))
    with pytest.raises(ConfigError) as info:
        parse(config(kind, f"{typo(key)}: 1"))
    assert str(info.value) == (f"<config>:{line}: sources.0.{typo(key)}: unknown option; did you mean {key!r}?")


def test_the_reported_example():
    text = (
        "sources:\n  - kind: prometheus\n    name: prom\n    url: http://127.0.0.1:9090\n"
        "    bearer_tokn: ${PROM_TOKEN}\n"
    )
    with pytest.raises(
        ConfigError,
        match=re.escape("opscenter.yaml:5: sources.0.bearer_tokn: unknown option; did you mean 'bearer_token'?"),
    ):
        parse(text, "opscenter.yaml", env={"PROM_TOKEN": "t"})


def test_a_nested_typo_names_its_own_line():
    text = config(
        "prometheus", "resources:", "  - node", "  - preset: cadvisor", "    service_patern: '(?P<service>.+)'"
    )
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "<config>:8: sources.0.resources.1.service_patern: unknown option; did you mean 'service_pattern'?"
        ),
    ):
        parse(text)


@pytest.mark.parametrize(
    "kind, line, expected",
    [
        ("prometheus", "step_s: soon", "step_s: expected a number, got 'soon'"),
        ("prometheus", "rate: 5 minutes", "rate: must be a PromQL duration such as 5m"),
        ("prometheus", "url: ftp://prometheus", "url: must be an http(s) URL"),
        ("jira", "fields: {servise: customfield_1}", "fields.servise: unknown key; did you mean 'service'?"),
        ("log_files", "fields: {when: '@timestamp'}", "fields.when: unknown key; expected 'ts', 'level'"),
        ("servicenow", "runbook_url: 'https://wiki/{svc}'", "runbook_url: must be a template whose only placeholder"),
        ("servicenow", "state_map: {WIP: busy}", "state_map.WIP: must be 'new', 'in_progress'"),
        ("log_files", "format: text", "sources.0.format: format text needs a 'pattern'"),
        ("loki", "service_label: app-name", "service_label: 'app-name' is not a valid label name"),
        ("demo", "fail: sometimes", "fail: expected true or false, got 'sometimes'"),
    ],
)
def test_a_bad_value_is_an_error_at_its_line(kind, line, expected):
    with pytest.raises(ConfigError) as info:
        parse(config(kind, line))
    assert expected in str(info.value) and str(info.value).startswith(f"<config>:{4 + len(minimal(kind))}:")


def test_options_missing_altogether_are_named():
    with pytest.raises(ConfigError, match=re.escape("<config>:2: sources.0.url: required option is missing")):
        parse("sources:\n  - kind: alertmanager\n    name: am\n")


@pytest.mark.parametrize("kind, key", SECRETS)
def test_a_literal_secret_is_refused(kind, key):
    with pytest.raises(ConfigError) as info:
        parse(config(kind, f"{key}: hunter2"))
    assert str(info.value) == (
        f"<config>:{4 + len(minimal(kind))}: sources.0.{key}: secrets must be given as ${{ENV_NAME}}"
    )
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("written", ["Bearer ${PROM_TOKEN}", "${PROM_TOKEN}x", "'12345'"])
def test_a_secret_only_partly_from_the_environment_is_refused(written):
    with pytest.raises(ConfigError, match=re.escape("sources.0.bearer_token: secrets must be given as ${ENV_NAME}")):
        parse(config("prometheus", f"bearer_token: {written}"), env={"PROM_TOKEN": "t"})


def test_secrets_and_numbers_come_from_the_env_given_to_parse(monkeypatch):
    monkeypatch.delenv("PROM_TOKEN", raising=False)
    text = config(
        "prometheus", "bearer_token: ${PROM_TOKEN}", "interval_s: ${PROM_INTERVAL}", "tls_verify: ${PROM_TLS_VERIFY}"
    )
    settings = parse(text, env={"PROM_TOKEN": "t0k3n", "PROM_INTERVAL": "15", "PROM_TLS_VERIFY": "false"})
    spec = settings.sources[0]
    assert spec["bearer_token"] == "t0k3n" and spec["interval_s"] == 15.0
    source = registry.build(spec)
    assert source.config.tls_verify is False and source.client.headers["Authorization"] == "Bearer t0k3n"


def test_the_env_given_to_parse_is_the_only_environment(monkeypatch):
    monkeypatch.setenv("OC_ONLY_IN_THE_PROCESS", "t")
    with pytest.raises(ConfigError, match="environment variable OC_ONLY_IN_THE_PROCESS is not set"):
        parse(config("prometheus", "bearer_token: ${OC_ONLY_IN_THE_PROCESS}"), env={})


def test_a_kind_without_a_model_accepts_any_key(monkeypatch):
    class PluginSource(Source):
        kind = "plugin-under-test"

    monkeypatch.setitem(registry._KINDS, PluginSource.kind, PluginSource)
    text = "sources:\n  - kind: plugin-under-test\n    name: plugin\n    anything: [1, 2]\n    password: x\n"
    spec = parse(text).sources[0]
    assert registry.build(spec).options == {"anything": [1, 2], "password": "x"}
    with pytest.raises(ConfigError, match=re.escape("<config>:4: sources.0.interval_s: must be greater than 0")):
        parse(text.replace("anything: [1, 2]", "interval_s: 0"))


def _documented_configs():
    """Every YAML example with sources in the docs, and every config file shipped."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
            if re.search(r"^sources:", block, re.M):
                yield path.name, block
    for path in [ROOT / "dashboard/core/default.yaml", *sorted((ROOT / "examples").glob("*.yaml"))]:
        yield path.name, path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name, text", list(_documented_configs()))
def test_every_documented_config_loads(name, text):
    env = {
        variable: "http://127.0.0.1:9090" if variable.endswith("_URL") else "x"
        for variable in re.findall(r"\$\{(\w+)\}", text)
    }
    assert parse(text, name, env=env).sources


def test_the_options_reference_in_the_docs_is_generated_from_the_models():
    document = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    committed = BEGIN + document.partition(BEGIN)[2].partition(END)[0] + END
    assert committed == reference(registry.builtins()), "run `make docs` and commit docs/sources.md"
