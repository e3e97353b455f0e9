"""Every registered source kind has a contract test and every built-in kind declares its options;
a new kind without them fails here."""

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from datasources import registry
from datasources.base import FRAME_NAMES, Source
from datasources.options import HttpOptions, SourceOptions
from datasources.transport import OPTION_KEYS

TESTS = Path(__file__).resolve().parent.parent
CONTRACT_TESTS = {
    "demo": ["unit/test_demo.py", "unit/test_contracts.py"],
    "prometheus": ["unit/test_prometheus.py", "integration/test_prometheus.py"],
    "alertmanager": ["unit/test_alertmanager.py", "integration/test_alertmanager.py"],
    "jaeger": ["unit/test_trace_sources.py"],
    "zipkin": ["unit/test_trace_sources.py"],
    "otlp_files": ["unit/test_trace_sources.py"],
    "servicenow": ["unit/test_servicenow.py"],
    "jira": ["unit/test_jira.py"],
    "request_tracker": ["unit/test_request_tracker.py", "integration/test_request_tracker.py"],
    "sql": ["integration/test_sql.py"],
    "chaostoolkit": ["unit/test_chaostoolkit.py", "integration/test_chaostoolkit.py"],
    "litmus": ["unit/test_litmus.py", "integration/test_kubernetes_api.py"],
    "chaosmesh": ["unit/test_chaosmesh.py", "integration/test_kubernetes_api.py"],
    "loki": ["unit/test_log_sources.py"],
    "elasticsearch": ["unit/test_log_sources.py"],
    "log_files": ["unit/test_log_sources.py"],
}


def test_every_registered_kind_has_a_contract_test():
    assert sorted(registry.kinds()) == sorted(CONTRACT_TESTS), "add the new kind's contract tests to CONTRACT_TESTS"
    for kind, cls in registry.kinds().items():
        module = cls.__module__.rsplit(".", 1)[-1]
        for name in CONTRACT_TESTS[kind]:
            text = (TESTS / name).read_text()
            assert "def test_" in text and (cls.__name__ in text or module in text), (kind, name)


def test_every_registered_kind_says_which_frames_it_polls():
    for kind, cls in registry.kinds().items():
        declared = cls.polled is not None or cls.offers.__func__ is not Source.offers.__func__
        assert declared, f"{kind}: set 'polled' or override 'offers' so panels can tell waiting from unconfigured"
        assert cls.offers({}) <= set(FRAME_NAMES), kind


def test_the_demo_offers_what_it_fetches():
    now = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    for options in ({}, {"frames": ["incidents", "changes"]}):
        source = registry.build({"kind": "demo", "name": "demo", **options})
        assert set(source.fetch(now)) == source.offers(options)


def _models(model: type[BaseModel]):
    yield model
    for info in model.model_fields.values():
        for inner in (info.annotation, *getattr(info.annotation, "__args__", ())):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from _models(inner)


def test_every_builtin_kind_declares_its_options_with_descriptions():
    for kind, cls in registry.builtins().items():
        assert cls.options_model is not None, f"{kind}: set options_model (see datasources/options.py)"
        assert issubclass(cls.options_model, SourceOptions), kind
        for model in _models(cls.options_model):
            for key, info in model.model_fields.items():
                assert info.description, f"{kind}: {model.__name__}.{key} has no description"


def test_the_http_model_holds_every_transport_key():
    assert set(OPTION_KEYS) <= set(HttpOptions.model_fields), "declare the new transport key on HttpOptions"
