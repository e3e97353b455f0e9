"""/wall: every business chain's health, active incidents and stale sources at a glance."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote
from zoneinfo import ZoneInfo

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import context, health, ids
from dashboard.figures import STATUS_COLOURS, sparkline_svg
from dashboard.i18n import pick_lang, t
from dashboard.poller import is_stale

PATH = "/wall"
STATUS_ICONS = {"ok": "●", "warn": "▲", "crit": "■", "nodata": "◌"}
ACTIVE_INCIDENT_STATES = ("new", "in_progress", "on_hold")
SPARK_MINUTES = 60
LANG_STORE = "oc-wall-lang"


def _fmt_rate(value: float) -> str:
    if pd.isna(value):
        return "–"
    return f"{value / 1000:.1f}k/s" if value >= 1000 else f"{value:.0f}/s"


def _fmt_ms(value: float) -> str:
    return "–" if pd.isna(value) else (f"{value / 1000:.1f}s" if value >= 1000 else f"{value:.0f}ms")


def _fmt_pct(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.2%}"


def _status_badge(status: str, lang: str, extra: str = "") -> html.Span:
    return html.Span(
        [html.Span(STATUS_ICONS[status], className="oc-icon"), t(f"status.{status}", lang), extra],
        className=f"oc-badge oc-{status}",
    )


def _tile(row, spark: pd.Series, lang: str) -> html.Div:
    status = row.status
    title = (
        f"{row.display_name} ({row.service}) — {t(f'status.{status}', lang)}\n"
        f"p95 {_fmt_ms(row.latency_p95_ms)} / target {row.p95_target_ms:.0f} ms; "
        f"errors {_fmt_pct(row.error_ratio)} / target {row.error_target:.1%}\n{row.rule}"
    )
    tile = html.Div(
        [
            html.Div([html.Span(STATUS_ICONS[status], className="oc-icon"), row.display_name], className="oc-tile-name"),
            html.Div(
                [
                    html.Span(_fmt_rate(row.requests_per_s), className="oc-metric"),
                    html.Span(_fmt_ms(row.latency_p95_ms), className="oc-metric oc-metric-main"),
                    html.Span(_fmt_pct(row.error_ratio), className="oc-metric"),
                ],
                className="oc-tile-metrics",
            ),
            html.Img(src=sparkline_svg(spark, STATUS_COLOURS[status]), className="oc-spark", alt=""),
        ],
        className=f"oc-tile oc-{status}",
        title=title,
        **{"data-service": row.service},
    )
    return dcc.Link(tile, href=f"/service/{quote(row.service)}", className="oc-tile-link")


def _chain_panels(chains: pd.DataFrame, evaluated: pd.DataFrame, metrics: pd.DataFrame, lang: str) -> list:
    if chains.empty:
        return [html.Div(t("wall.no_chains", lang), className="oc-empty")]
    rows = {r.service: r for r in evaluated.itertuples(index=False)}
    cutoff = metrics["ts"].max() - pd.Timedelta(minutes=SPARK_MINUTES) if len(metrics) else None
    recent = metrics[metrics["ts"] > cutoff] if cutoff is not None else metrics
    sparks = {s: g.sort_values("ts")["latency_p95_ms"] for s, g in recent.groupby("service")}
    panels = []
    for chain, steps in chains.sort_values("step", kind="stable").groupby("chain", sort=False):
        tiles = [_tile(rows[s], sparks.get(s, pd.Series(dtype=float)), lang) for s in steps["service"] if s in rows]
        worst = health.overall([rows[s].status for s in steps["service"] if s in rows])
        panels.append(
            html.Section(
                [
                    html.Header([dcc.Link(html.H2(steps["chain_name"].iloc[0]), href=f"/chain/{quote(chain)}"),
                                 _status_badge(worst, lang)], className="oc-chain-head"),
                    html.Div(tiles, className="oc-flow"),
                ],
                className=f"oc-chain oc-{worst}",
                **{"data-chain": chain},
            )
        )
    return panels


def _incident_list(incidents: pd.DataFrame, now: pd.Timestamp, lang: str) -> html.Section:
    active = incidents[incidents["state"].isin(ACTIVE_INCIDENT_STATES)].sort_values(["priority", "opened_at"])
    items = [
        html.Li(
            [
                html.Span(f"P{row.priority}", className=f"oc-prio oc-p{row.priority}"),
                html.Div(
                    [
                        html.Div(row.title, className="oc-inc-title"),
                        html.Div(
                            f"{row.incident_id} · {row.service or '–'} · {row.assignment_group or '–'} · "
                            + t("wall.age", lang, minutes=int((now - row.opened_at).total_seconds() // 60)),
                            className="oc-inc-meta",
                        ),
                    ]
                ),
            ],
            className="oc-incident",
            **{"data-incident": row.incident_id},
        )
        for row in active.itertuples()
    ]
    return html.Section(
        [html.H2(f"{t('wall.incidents', lang)} ({len(items)})"),
         html.Ul(items, className="oc-incidents") if items else html.Div(t("wall.no_incidents", lang), className="oc-empty")],
        className="oc-panel",
    )


def _stale_list(lang: str, now: datetime) -> list:
    ctx = context.current()
    tz = ZoneInfo(ctx.settings.display_tz)
    statuses = ctx.store.statuses()
    notes = []
    for name in ctx.settings.source_names:
        status = statuses.get(name)
        if not is_stale(status, now):
            continue
        since = status.get("last_success") if status else None
        when = pd.Timestamp(since).tz_convert(tz).strftime("%H:%M") if since else "–"
        notes.append(html.Div(f"{name}: " + t("wall.stale_since", lang, time=when), className="oc-stale-note"))
    return notes


def body(lang: str, versions: dict | None = None) -> list:
    """The wall's content, built from the current frames."""
    ctx = context.current()
    frames = (versions or {}).get("frames")
    store = ctx.store
    services = store.frame("services", frames)
    metrics = store.frame("service_metrics", frames)
    evaluated = health.evaluate(services, metrics, ctx.settings.health).merge(
        services[["service", "display_name"]], on="service"
    )
    now = datetime.now(timezone.utc)
    incidents = store.frame("incidents", frames)
    alerts = store.frame("alerts", frames)
    counts = evaluated["status"].value_counts()
    firing = int((alerts["state"] == "firing").sum())
    overall = health.overall(evaluated["status"])
    summary = html.Div(
        [
            _status_badge(overall, lang),
            html.Span(f"{t('wall.services', lang)} {len(evaluated)}", className="oc-count"),
            *[html.Span([html.Span(STATUS_ICONS[s], className="oc-icon"), str(int(counts.get(s, 0)))],
                        className=f"oc-count oc-{s}") for s in ("ok", "warn", "crit")],
            html.Span(f"{t('wall.alerts_firing', lang)} {firing}", className="oc-count"),
            *_stale_list(lang, now),
        ],
        className="oc-summary",
    )
    return [
        summary,
        html.Div(
            [
                html.Div(_chain_panels(store.frame("chains", frames), evaluated, metrics, lang), className="oc-chains"),
                html.Div([_incident_list(incidents, pd.Timestamp(now), lang)], className="oc-side"),
            ],
            className="oc-wall-grid",
        ),
    ]


def layout(lang: str | None = None, **_query) -> html.Div:
    """The wall page; ``?lang=zh`` for Chinese."""
    ctx = context.current()
    lang = pick_lang(lang, ctx.settings.language)
    return html.Div(
        [
            dcc.Store(id=LANG_STORE, data=lang),
            html.Div(body(lang), id=ids.WALL_BODY),
        ],
        className="oc-wall",
    )


def register(app: dash.Dash) -> None:
    """Register the page and its refresh callback on ``app``."""
    dash.register_page(__name__, path=PATH, layout=layout, title="Wall")

    @app.callback(Output(ids.WALL_BODY, "children"), Input(ids.VERSIONS, "data"), State(LANG_STORE, "data"),
                  prevent_initial_call=True)
    def refresh_wall(versions, lang):
        return body(lang or "en", versions)
