"""The catalogue, evidence rules, scoring and the exports, without a browser."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from dashboard.core.settings import ConfigError
from dashboard.maturity import evidence, findings, report_pdf
from dashboard.maturity import model as catalogue
from dashboard.maturity import report as maturity_report
from dashboard.maturity import scoring as maturity
from datasources import registry
from datasources.base import FRAME_NAMES, empty_frame, validate
from tests import poppler

NOW = pd.Timestamp("2026-03-01T00:00:00Z")
RULE = maturity.PlusRule(share=0.5, domains=2)


def test_builtin_catalogue_covers_seven_domains_with_fifty_items():
    model = catalogue.load()
    assert len(model.domains) == 7 and len(model.items) >= 50
    assert {i.domain for i in model.items} == set(model.domains)


def test_builtin_catalogue_speaks_chinese_everywhere():
    model = catalogue.load()
    assert all(model.domains_zh.get(key) for key in model.domains)
    assert all(item.title_zh and item.description_zh for item in model.items)
    han = lambda text: any("\u4e00" <= c <= "\u9fff" for c in text)  # noqa: E731
    assert all(han(item.title_in("zh")) and han(item.description_in("zh")) for item in model.items)
    assert all(not han(item.title_in("en")) for item in model.items)


def test_chinese_text_is_optional_and_falls_back_to_english():
    model = catalogue.parse(
        "domains:\n  a: {name: Alerting, name_zh: 告警}\n  b: Backups\nitems:\n"
        "  - {id: A-1, domain: a, level: 1, title: Paged, title_zh: 已呼叫, description: d, rule: manual}\n"
        "  - {id: B-1, domain: b, level: 1, title: Kept, description: Copies kept, description_zh: 副本留存,"
        " rule: manual}\n"
    )
    assert model.domain_names("zh") == {"a": "告警", "b": "Backups"}
    assert model.domain_names("en") == {"a": "Alerting", "b": "Backups"}
    first, second = model.items
    assert (first.title_in("zh"), first.description_in("zh")) == ("已呼叫", "d")
    assert (second.title_in("zh"), second.description_in("zh")) == ("Kept", "副本留存")
    items = maturity.item_table(model, maturity.current(pd.DataFrame(columns=["item_id"])), pd.DataFrame(), "zh")
    assert list(items["domain_name"]) == ["告警", "Backups"] and list(items["title"]) == ["已呼叫", "Kept"]
    assert list(maturity.domain_levels(model, items, "zh")["domain_name"]) == ["告警", "Backups"]


@pytest.mark.parametrize(
    "text, where",
    [
        (
            "domains: {a: {name_zh: 告警}}\nitems:\n"
            "  - {id: X-1, domain: a, level: 1, title: t, description: d, rule: manual}\n",
            ":1: domains.a: missing key 'name'",
        ),
        (
            "domains: {a: {name: A, title_zh: 告警}}\nitems:\n"
            "  - {id: X-1, domain: a, level: 1, title: t, description: d, rule: manual}\n",
            ":1: domains.a.title_zh: unknown key",
        ),
        (
            "domains: {a: A}\nitems:\n  - {id: X-1, domain: a, level: 1, title: t, description: d, rule: manual,\n"
            "     title_zh: ''}\n",
            ":4: items.0.title_zh: expected non-empty text",
        ),
        (
            "domains: {a: A}\nitems:\n  - {id: X-1, domain: a, level: 1, title: t, description: d, rule: manual,\n"
            "     summary_zh: x}\n",
            ":4: items.0.summary_zh: unknown key",
        ),
        (
            "domains: {a: A}\nitems:\n  - {id: X-1, domain: b, level: 1, title: t, description: d, rule: manual}\n",
            ":3: items.0.domain: unknown domain",
        ),
        (
            "domains: {a: A}\nitems:\n  - {id: X-1, domain: a, level: 7, title: t, description: d, rule: manual}\n",
            ":3: items.0.level",
        ),
        (
            "domains: {a: A}\nitems:\n  - {id: X-1, domain: a, level: 1, title: t, description: d,\n"
            "     rule: {kind: trace_coverage, mni: 1}}\n",
            ":4: items.0.rule.mni",
        ),
        (
            "domains: {a: A}\nitems:\n  - {id: X-1, domain: a, level: 1, title: t, description: d, rule: manual}\n"
            "  - {id: X-1, domain: a, level: 1, title: t, description: d, rule: manual}\n",
            ":4: items.1.id: duplicate",
        ),
    ],
)
def test_catalogue_errors_name_file_line_and_key(text, where):
    with pytest.raises(ConfigError, match=where):
        catalogue.parse(text, "firm.yaml")


@pytest.fixture(scope="module")
def demo_frames():
    frames = registry.build({"kind": "demo", "name": "demo", "seed": 42}).fetch(NOW.to_pydatetime())
    return {name: frames.get(name, empty_frame(name)) for name in FRAME_NAMES}


def test_every_rule_evaluates_on_the_demo_estate(demo_frames):
    results = evidence.evaluate_all(catalogue.load(), demo_frames, NOW)
    assert {r.rule for r in results} == set(evidence.RULES)
    assert any(r.passed for r in results) and any(r.passed is False for r in results)
    assert all(len(r.digest) == 64 and r.query.startswith(r.rule) for r in results)


def test_every_rule_evaluates_on_an_estate_with_only_metrics(demo_frames):
    """No ITSM or chaos source configured: every rule still gives a result (a rule without data, no value)."""
    kept = ("services", "chains", "service_metrics", "resource_metrics")
    frames = {name: demo_frames[name] if name in kept else empty_frame(name) for name in FRAME_NAMES}
    results = evidence.evaluate_all(catalogue.load(), frames, NOW)
    assert {r.rule for r in results} == set(evidence.RULES)


def _item(kind, applies_to="all", **params):
    return catalogue.Item("T-1", "monitoring", 1, "t", "d", applies_to, {"kind": kind, **params})


def _frames(**given):
    return {name: validate(name, given[name]) if name in given else empty_frame(name) for name in FRAME_NAMES}


def _services(*rows):
    return pd.DataFrame(
        [{"service": s, "display_name": s, "tier": tier, "owner": "team", "runbook_url": url} for s, tier, url in rows]
    )


def test_runbook_rule_passes_and_fails_on_hand_made_frames():
    item = _item("service_runbooks", "tier1", min=1.0)
    good = _frames(services=_services(("a", 1, "https://rb/a"), ("b", 3, None)))
    bad = _frames(services=_services(("a", 1, None), ("b", 1, "https://rb/b")))
    assert evidence.evaluate(item, good, NOW).passed is True
    result = evidence.evaluate(item, bad, NOW)
    assert result.passed is False and result.value == 0.5
    assert evidence.evaluate(item, good, NOW).digest != result.digest


def test_chaos_monthly_needs_a_run_in_each_period():
    services = _services(("a", 1, None))

    def runs(*days):
        return pd.DataFrame(
            [
                {
                    "run_id": f"r{d}",
                    "experiment": "e",
                    "service": "a",
                    "fault": "pod-kill",
                    "started_at": NOW - pd.Timedelta(days=d),
                    "ended_at": NOW - pd.Timedelta(days=d),
                    "status": "passed",
                    "deviated": False,
                    "probe_success_ratio": 1.0,
                    "recovery_s": 5.0,
                    "source": "ctk",
                    "url": None,
                }
                for d in days
            ]
        )

    item = _item("chaos_monthly", "tier1", months=3, min=1.0)
    assert evidence.evaluate(item, _frames(services=services, chaos_runs=runs(5, 35, 65)), NOW).passed is True
    assert evidence.evaluate(item, _frames(services=services, chaos_runs=runs(5, 65)), NOW).passed is False
    assert evidence.evaluate(item, _frames(services=_services(("b", 2, None))), NOW).passed is None


def _items(statuses: dict[tuple[str, int], list[str]]) -> pd.DataFrame:
    rows = [
        {"id": f"{d}{lvl}{i}", "domain": d, "level": lvl, "status": s}
        for (d, lvl), values in statuses.items()
        for i, s in enumerate(values)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "statuses, shown",
    [
        ({("a", 1): ["fail"], ("b", 1): ["pass"]}, "0"),
        ({("a", 1): ["pass"], ("b", 1): ["waived"], ("a", 2): ["fail"]}, "1"),
        ({("a", 1): ["pass"], ("b", 1): ["na", "pass"], ("a", 2): ["pass", "fail"], ("b", 2): ["pass"]}, "1+"),
        ({("a", 1): ["pass"], ("a", 2): ["pass", "fail"], ("b", 2): ["fail"]}, "1"),
        ({("a", 1): ["pass"], ("a", 2): ["na"], ("b", 3): ["in_progress"]}, "2"),
        ({(d, lvl): ["pass"] for d in "ab" for lvl in range(1, 6)}, "5"),
    ],
)
def test_levels_and_plus_levels(statuses, shown):
    assert maturity.overall(_items(statuses), RULE) == shown


def test_gaps_list_what_blocks_the_next_level():
    items = _items({("a", 1): ["pass"], ("a", 2): ["fail", "pass"], ("b", 3): ["fail"]})
    gap = maturity.gaps(items)
    assert list(gap["id"]) == ["a20"] and gap["target"].iloc[0] == 2


@pytest.fixture(scope="module")
def assessed(demo_frames):
    model = catalogue.load()
    results = evidence.evaluate_all(model, demo_frames, NOW)
    latest = pd.DataFrame([{**r.__dict__, "evaluated_at": NOW} for r in results])
    history = pd.DataFrame(
        [
            {
                "item_id": "MON-01",
                "at": NOW - pd.Timedelta(days=3),
                "assessor": "li.wei",
                "status": "pass",
                "justification": "黄金指标已覆盖",
                "evidence_links": [],
                "proposed": "pass",
            }
        ]
    )
    return model, latest, history


def test_evidence_states_tell_manual_pending_and_judged_items_apart(assessed):
    model, latest, history = assessed
    items = maturity.item_table(model, maturity.current(history), latest.iloc[1:])
    states = dict(zip(items["id"], maturity.evidence_states(items)))
    assert states["MON-09"] == "manual" and states[latest["item_id"].iloc[0]] == "pending"
    assert {states[i] for i in latest["item_id"].iloc[1:]} <= {"pass", "fail", "none"}


def _assessed(item_ids, justification, days_ago=3):
    """An assessment history: each of ``item_ids`` passed ``days_ago`` with ``justification``."""
    return pd.DataFrame(
        [
            {
                "item_id": item,
                "at": NOW - pd.Timedelta(days=days_ago),
                "assessor": "li.wei",
                "status": "pass",
                "justification": justification,
                "evidence_links": [],
                "proposed": "pass",
            }
            for item in item_ids
        ]
    )


def _pdf(model, history, latest, lang):
    items = maturity.item_table(model, maturity.current(history), latest, lang)
    return report_pdf.pdf_bytes(
        "OCC",
        maturity.overall(items, RULE),
        items,
        maturity.domain_levels(model, items, lang),
        maturity.progress(model, history, RULE),
        maturity.gaps(items),
        "2026-03-01",
        lang,
    )


def test_csv_and_pdf_contain_the_items(assessed):
    model, latest, history = assessed
    items = maturity.item_table(model, maturity.current(history), latest)
    text = maturity_report.csv_text(items)
    assert text.startswith("\ufeffItem,Domain,Level,Capability,Description,")
    assert text.count("\n") == len(model.items) + 1 and "MON-01" in text and "li.wei" in text
    assert "Golden signals for critical services" in text and "Assessor decides" in text
    pdf = _pdf(model, history, latest, "en")
    assert pdf.startswith(b"%PDF") and poppler.pages(pdf) >= 3
    shown = poppler.words(pdf)
    assert "OCC: technical-operations maturity" in shown and "Level per domain" in shown
    assert all(item.id in shown for item in model.items) and "Golden signals for critical services" in shown
    assert items["query"].iloc[0].startswith("metrics_coverage: ") and all(rule in shown for rule in items["query"])


def test_chinese_exports_carry_the_chinese_catalogue(assessed):
    model, latest, history = assessed
    items = maturity.item_table(model, maturity.current(history), latest, "zh")
    text = maturity_report.csv_text(items, "zh")
    assert text.startswith("\ufeff编号,领域,等级,能力项,说明,适用范围,证据结论,")
    assert "MON-01,监控管理,1,一级服务黄金指标全覆盖," in text and ",人工评估," in text and ",未开始," in text
    assert ",metrics_coverage: 上报服务指标的一级服务占比 >= 100%," in text
    pdf = _pdf(model, history, latest, "zh")
    assert pdf.startswith(b"%PDF") and poppler.pages(pdf) >= 3
    shown = "".join(poppler.text(pdf).split())
    assert "OCC：技术运营成熟度" in shown and "监控管理" in shown and "各领域等级" in shown
    assert all(item.title_zh.replace(" ", "") in shown for item in model.items)
    assert "黄金指标已覆盖" in shown and "上报服务指标的一级服务占比>=100%" in shown


def test_the_pdf_shows_assessment_times_in_the_display_time_zone(assessed):
    model, latest, history = assessed
    items = maturity.item_table(model, maturity.current(history), latest)
    pdf = report_pdf.pdf_bytes(
        "OCC",
        "0",
        items,
        maturity.domain_levels(model, items),
        maturity.progress(model, history, RULE),
        maturity.gaps(items),
        "2026-03-01",
        tz="Asia/Shanghai",
    )
    shown = poppler.words(pdf)
    assert "li.wei 2026-02-26 08:00 CST 黄金指标已覆盖" in shown


def test_the_chinese_pdf_needs_no_font_from_the_server(assessed):
    """The PDF names only the reader's standard fonts (Helvetica, Adobe's STSong-Light): it embeds none."""
    model, latest, history = assessed
    for lang in ("en", "zh"):
        used = poppler.fonts(_pdf(model, history, latest, lang))
        assert set(used) <= {"Helvetica", "Helvetica-Bold", "STSong-Light"} and not any(used.values()), used
    assert "STSong-Light" in used


def test_a_long_justification_is_in_the_pdf_in_full(assessed):
    model, latest, _ = assessed
    english = " ".join(f"check{n:03d}" for n in range(67)) + " end."
    chinese = "".join(f"第{n}项已核对" for n in range(60)) + "完"
    history = pd.concat([_assessed(["MON-01"], english), _assessed(["MON-02"], chinese)], ignore_index=True)
    assert len(english) >= 600 and len(chinese) >= 300
    assert english in poppler.words(_pdf(model, history, latest, "en"))
    assert chinese in "".join(poppler.text(_pdf(model, history, latest, "zh")).split())


@pytest.mark.parametrize(
    "justification",
    [
        '<b>kept</b> & <font name="Nope">as typed</font> <br/>',
        r"costs $\notacommand{1}$ per $ month",
        "first line\nsecond line\tand a tab",
    ],
)
def test_an_assessors_text_prints_as_typed_and_never_breaks_the_pdf(assessed, justification):
    """Markup, mathtext and control characters in a stored justification are text, not instructions."""
    model, latest, _ = assessed
    pdf = _pdf(model, _assessed(["MON-01"], justification), latest, "en")
    assert " ".join(justification.split()) in poppler.words(pdf)


def test_many_items_flow_over_pages_with_the_header_on_each(assessed):
    """Every item but the last passed with a long justification: the gap and item tables run over several
    pages, each starting with the column headers, and every justification prints in full, in order, even
    one longer than a page."""
    model, latest, _ = assessed
    history = _assessed([item.id for item in model.items[:-1]], "")
    history["justification"] = [" ".join(f"{item}-reason{n:02d}" for n in range(20)) for item in history["item_id"]]
    longest = " ".join(f"page-long{n:04d}" for n in range(400))
    history.loc[0, "justification"] = longest
    pdf = _pdf(model, history, latest, "en")
    count = poppler.pages(pdf)
    assert count >= 8
    for page in range(2, count + 1):
        shown = poppler.text(pdf, page)
        assert "Justification" in shown and f"({page}/{count})" in shown, page
    following = iter(poppler.words(pdf).split())  # a row cut by a page break goes on after the footer and header
    assert all(word in following for word in " ".join(history["justification"]).split())


def test_pdfs_drawn_in_eight_threads_at_once_are_identical(assessed):
    model, latest, history = assessed
    one = _pdf(model, history, latest, "zh")
    with ThreadPoolExecutor(8) as pool:
        drawn = list(pool.map(lambda lang: _pdf(model, history, latest, lang), ["zh", "en"] * 4))
    assert drawn[0::2] == [one] * 4 and len(set(drawn[1::2])) == 1
    assert "OCC: technical-operations maturity" in poppler.words(drawn[1])


def _judged(rows: list[tuple[str, int, str, str]]) -> pd.DataFrame:
    """Items as (domain, level, evidence state, assessment status): pass, fail, none, pending or manual."""
    return pd.DataFrame(
        [
            {
                "id": f"{d}{lvl}{i}",
                "domain": d,
                "level": lvl,
                "status": status,
                "automatic": state != "manual",
                "proposed": state if state != "pending" else "none",
                "evaluated_at": pd.NaT if state == "pending" else NOW,
            }
            for i, (d, lvl, state, status) in enumerate(rows)
        ]
    )


@pytest.mark.parametrize(
    "rows, level",
    [
        ([("a", 1, "pass", "not_started"), ("a", 2, "pass", "not_started"), ("a", 3, "fail", "not_started")], 2),
        ([("a", 1, "pass", "not_started"), ("a", 2, "manual", "pass"), ("a", 3, "pass", "not_started")], 1),
        ([("a", 1, "pass", "not_started"), ("a", 3, "pass", "not_started")], 1),  # no level-2 item: the climb stops
        ([("a", 1, "none", "not_started"), ("a", 2, "pass", "not_started")], 0),
        ([("a", 1, "pending", "not_started")], 0),
        ([("a", 1, "pass", "fail"), ("a", 2, "fail", "na"), ("a", 2, "pass", "not_started")], 2),  # na: out of scope
        ([("a", lvl, "pass", "not_started") for lvl in range(1, 6)], 5),
    ],
)
def test_evidence_level_climbs_while_every_item_of_a_level_is_met(rows, level):
    assert maturity.evidence_level(_judged(rows)) == level


def test_domain_levels_carry_the_confirmed_and_the_evidence_level():
    model = catalogue.parse(
        "domains: {a: A, b: B}\nitems:\n"
        "  - {id: A-1, domain: a, level: 1, title: t, description: d, rule: {kind: dependencies_known}}\n"
        "  - {id: A-2, domain: a, level: 2, title: t, description: d, rule: {kind: dependencies_known}}\n"
        "  - {id: B-1, domain: b, level: 1, title: t, description: d, rule: manual}\n"
    )
    latest = pd.DataFrame(
        [{"item_id": i, "passed": True, "value": 1.0, "evaluated_at": NOW, "findings": []} for i in ("A-1", "A-2")]
    )
    history = _assessed(["A-1"], "seen")
    items = maturity.item_table(model, maturity.current(history), latest)
    levels = maturity.domain_levels(model, items).set_index("domain")
    assert levels.loc["a", ["level", "evidence_level"]].tolist() == [1, 2]
    assert levels.loc["b", ["level", "evidence_level"]].tolist() == [0, 0]


def _latency(*rows) -> dict:
    services = _services(*((s, 1, None) for s, _ in rows))
    metrics = pd.DataFrame(
        [
            {
                "ts": NOW - pd.Timedelta(minutes=m),
                "service": s,
                "requests_per_s": 10.0,
                "error_ratio": 0.0,
                "latency_p50_ms": p95 / 3,
                "latency_p95_ms": p95,
                "latency_p99_ms": p95 * 2,
            }
            for s, p95 in rows
            for m in (1, 2)
        ]
    )
    return _frames(services=services, service_metrics=metrics)


def test_a_failing_rule_names_what_fails_with_units_and_thresholds():
    item = _item("latency_max", "tier1", max_ms=500, min=1.0)
    result = evidence.evaluate(item, _latency(("order-gateway", 812.0), ("quote", 120.0), ("risk", 640.0)), NOW)
    assert result.passed is False
    assert findings.texts(result.findings) == ["order-gateway: p95 812 ms > 500 ms", "risk: p95 640 ms > 500 ms"]
    assert findings.texts(result.findings, "zh")[0] == "order-gateway: p95 812 ms > 500 ms"
    assert findings.loads(findings.dumps(result.findings)) == list(result.findings)
    assert evidence.evaluate(item, _latency(("quote", 120.0)), NOW).findings == ()


@pytest.mark.parametrize(
    "kind, params, frames, expected",
    [
        (
            "service_runbooks",
            {"min": 1.0},
            {"services": _services(("a", 1, None), ("b", 1, "https://rb/b"))},
            ["a: no runbook URL"],
        ),
        ("services_known", {"min": 5}, {"services": _services(("a", 1, None))}, ["services in the inventory 1 < 5"]),
        ("history_depth", {"days": 90}, {}, ["incident history 0 d < 90 d"]),
        ("dependencies_known", {}, {}, ["no calls observed between services"]),
    ],
)
def test_findings_of_other_rules(kind, params, frames, expected):
    result = evidence.evaluate(_item(kind, **params), _frames(**frames), NOW)
    assert result.passed is False and findings.texts(result.findings) == expected


def test_findings_in_chinese_carry_chinese_units():
    found = [
        findings.finding("mtta", "P1", 45, 30, "min", ">"),
        findings.finding("availability", None, 0.992, 0.999, "%", "<"),
    ]
    assert findings.texts(found) == ["P1: MTTA 45 min > 30 min", "availability 99.2% < 99.9%"]
    assert findings.texts(found, "zh") == ["P1: 平均确认时长 45 分钟 > 30 分钟", "可用率 99.2% < 99.9%"]


def test_an_evaluation_keeps_at_most_a_hundred_findings_and_counts_the_rest():
    services = _services(*((f"svc-{n:03d}", 1, None) for n in range(150)))
    result = evidence.evaluate(_item("service_runbooks", "tier1", min=1.0), _frames(services=services), NOW)
    assert len(result.findings) == findings.LIMIT
    assert findings.text(result.findings[-1]) == "… and 51 more" and result.findings[0]["subject"] == "svc-000"
    shorter = findings.capped(result.findings, 8)
    assert len(shorter) == 8 and findings.text(shorter[-1]) == "… and 143 more"
    assert findings.loads(None) == [] and findings.dumps([]) is None


def test_the_csv_says_why_an_item_is_not_met(assessed):
    model, latest, history = assessed
    for lang, header, met in (
        ("en", "Why not met", "auth-service: not seen in traced calls"),
        ("zh", "未达标原因", "auth-service: 调用链中未出现"),
    ):
        items = maturity.item_table(model, maturity.current(history), latest, lang)
        lines = maturity_report.csv_text(items, lang).lstrip("\ufeff").splitlines()
        assert header in lines[0].split(",")
        assert met in next(line for line in lines if line.startswith("MON-06,"))


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            [
                "overall level · evidence suggests L2, awaiting confirmation",
                "Alpha: confirmed L0 · evidence suggests L2, awaiting confirmation",
                "Why not met: order-gateway: p95 812 ms > 500 ms; change success 80% < 95%",
            ],
        ),
        (
            "zh",
            [
                "总体等级 · 证据显示 L2，待确认",
                "阿尔法：已确认 L0 · 证据显示 L2，待确认",
                "未达标原因：order-gateway: p95 812 ms > 500 ms; 变更成功率 80% < 95%",
            ],
        ),
    ],
)
def test_the_pdf_gives_each_item_the_evidence_level_and_its_findings(lang, expected):
    """The page's "evidence suggests L2, awaiting confirmation" and the findings, with units and limits, print
    under each item, in the report's language."""
    model = catalogue.parse(
        "domains: {a: {name: Alpha, name_zh: 阿尔法}}\nitems:\n"
        + "".join(
            f"  - {{id: A-{n}, domain: a, level: {n}, title: t{n}, description: d, "
            "rule: {kind: dependencies_known}}\n"
            for n in (1, 2, 3)
        )
    )
    found = [
        findings.finding("p95", "order-gateway", 812.0, 500.0, "ms", ">"),
        findings.finding("change_success", None, 0.8, 0.95, "%", "<"),
    ]
    latest = pd.DataFrame(
        [
            {"item_id": item, "passed": passed, "value": 1.0, "evaluated_at": NOW, "findings": why}
            for item, passed, why in (("A-1", True, []), ("A-2", True, []), ("A-3", False, found))
        ]
    )
    history = _assessed(["A-1"], "seen").iloc[0:0]  # nothing confirmed yet
    items = maturity.item_table(model, maturity.current(history), latest, lang)
    domains, progress = maturity.domain_levels(model, items, lang), maturity.progress(model, history, RULE)
    pdf = report_pdf.pdf_bytes("OCC", "0", items, domains, progress, maturity.gaps(items), "2026-03-01", lang)
    shown = poppler.words(pdf)
    for text in expected:
        assert text in shown, text
    assert shown.count(expected[1]) == 1 + 3  # under each item: the gap list's one and the item list's three


def test_freeze_rule_fails_on_a_flagged_breach_in_its_window_and_names_it():
    def breach(ident, days_ago, flagged=True, reason="session", name="cn"):
        return {
            "kind": "change",
            "id": ident,
            "source": "itsm",
            "title": "Release",
            "service": "order-gateway",
            "type": "normal" if flagged else "emergency",
            "reason": reason,
            "freeze": name,
            "flagged": flagged,
            "ts": NOW - pd.Timedelta(days=days_ago),
            "url": None,
        }

    item = _item("freeze_breaches_max", days=30, max=0)
    assert evidence.evaluate(item, _frames(), NOW).passed is None  # no change or run known: nothing to judge
    known = validate("chaos_runs", pd.DataFrame([{**_run_row(), "started_at": NOW, "ended_at": NOW}]))
    quiet = pd.DataFrame([breach("CHG-OLD", 40), breach("CHG-E", 3, flagged=False)])
    assert evidence.evaluate(item, _frames(chaos_runs=known, freeze_breaches=quiet), NOW).passed is True
    loud = pd.DataFrame([breach("CHG-1", 3), breach("CHG-2", 5, reason="window", name="New Year eve")])
    result = evidence.evaluate(item, _frames(chaos_runs=known, freeze_breaches=loud), NOW)
    assert result.passed is False and result.value == 2
    assert findings.texts(result.findings) == [
        "CHG-1 (order-gateway): made during a trading session (market cn)",
        "CHG-2 (order-gateway): made in the freeze window “New Year eve”",
    ]


def _run_row():
    return {
        "run_id": "r1",
        "experiment": "e",
        "service": "a",
        "fault": "pod-kill",
        "status": "passed",
        "deviated": False,
        "probe_success_ratio": 1.0,
        "recovery_s": 5.0,
        "source": "ctk",
        "url": None,
    }


def _slo_status(*rows):
    """slo_status rows of (chain, objective, total, budget_left)."""
    return pd.DataFrame(
        [
            {"chain": c, "objective": o, "target": 0.995, "total": t, "bad": 0.0, "budget_left": b}
            | {"burn_5m": 0.0, "burn_30m": 0.0, "burn_60m": 0.0, "burn_360m": 0.0, "alert": "none"}
            for c, o, t, b in rows
        ]
    )


def test_the_availability_items_take_their_evidence_from_the_slo_budgets():
    chains = pd.DataFrame({"chain": ["pay", "fx"], "chain_name": ["Pay", "FX"], "step": [1, 1], "service": ["a", "b"]})
    status = _slo_status(
        ("pay", "availability", 1e6, -0.4), ("pay", "latency", 300.0, 0.9), ("fx", "availability", 0.0, None)
    )
    tracked = evidence.evaluate(_item("slo_tracked", min=1.0), _frames(chains=chains, slo_status=status), NOW)
    assert tracked.value == 0.5 and tracked.passed is False  # fx has no session event yet
    assert findings.text(tracked.findings[0]) == "fx: no error budget tracked"
    met = evidence.evaluate(_item("slo_budget_met", min=1.0), _frames(chains=chains, slo_status=status), NOW)
    assert met.value == 0.0 and met.passed is False
    assert findings.text(met.findings[0], "zh") == "pay: 可用性剩余预算 -40% < 0%"
    kept = _slo_status(("pay", "availability", 1e6, 0.3))
    assert evidence.evaluate(_item("slo_budget_met", min=1.0), _frames(slo_status=kept), NOW).passed is True
    assert evidence.evaluate(_item("slo_budget_met", min=1.0), _frames(), NOW).passed is None
