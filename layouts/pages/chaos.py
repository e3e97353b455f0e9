"""/chaos: chaos runs over time, pass rate, recovery, resilience scores and coverage.

``?from=&to=`` sets the window of runs shown and scored (default the last 30 days);
coverage always looks at the 30 days before now. Each run links to its service's page
over the run's time, so its impact on the business can be seen.
"""

from __future__ import annotations

import math

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.analytics import resilience
from dashboard.figures import chaos as chaos_figures
from dashboard.i18n import pick_lang, t
from dashboard.security import urlinput
from layouts.components.graphs import graph
from layouts.components.titles import page_title

PATH = "/chaos"
STATE_STORE = "oc-chaos-state"
DEFAULT_FROM = "now-30d"
STATUS_ICONS = {"ok": "●", "warn": "▲", "crit": "■", "nodata": "◌"}
COVERAGE_ICONS = {"recent": "✓", "stale": "…", "never": "✗"}


def _local(value, tz: str) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def _pct(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.0%}"


def _kpi(label: str, value: str, status: str = "") -> html.Div:
    return html.Div(
        [html.Div(value, className="oc-chaos-kpi-value"), html.Div(label, className="oc-chaos-kpi-label")],
        className=f"oc-chaos-kpi {('oc-' + status) if status else ''}",
    )


def _kpis(runs: pd.DataFrame, coverage: pd.DataFrame, lang: str) -> html.Div:
    rate = resilience.pass_rate(runs)
    recovery = runs["recovery_s"].median()
    failed = int((runs["status"] == "failed").sum())
    steps = coverage.drop_duplicates("service")
    return html.Div(
        [
            _kpi(t("chaos.runs", lang), str(len(runs))),
            _kpi(t("chaos.pass_rate", lang), _pct(rate), resilience.score_status(None if rate is None else 100 * rate)),
            _kpi(t("chaos.median_recovery", lang), "–" if pd.isna(recovery) else f"{recovery:.0f} s"),
            _kpi(t("chaos.failed_hypotheses", lang), str(failed), "crit" if failed else "ok"),
            _kpi(t("chaos.covered", lang), f"{int((steps['coverage'] == 'recent').sum())} / {len(steps)}"),
        ],
        className="oc-chaos-kpis",
    )


def _step(row, scores: pd.Series, tz: str, lang: str) -> html.Span:
    score = scores.get(row.service, float("nan"))
    status = resilience.score_status(score) if row.coverage != "never" else "nodata"
    title = (
        f"{row.service} — {t(f'chaos.coverage.{row.coverage}', lang)}"
        + (f"\n{t('chaos.col.last_run', lang)} {_local(row.last_run, tz)}" if row.coverage != "never" else "")
        + (f"\n{t('chaos.col.score', lang)} {_score_text(score)}" if pd.notna(score) else "")
    )
    return html.Span(
        [
            html.Span(COVERAGE_ICONS[row.coverage], className="oc-icon"),
            row.service,
            html.Span(_score_text(score) if pd.notna(score) else "", className="oc-chaos-step-score"),
        ],
        className=f"oc-chaos-step oc-chaos-{row.coverage} oc-{status}",
        title=title,
        **{"data-service": row.service, "data-coverage": row.coverage},
    )


def _chain_cards(chain_view: pd.DataFrame, coverage: pd.DataFrame, scores: pd.Series, tz: str, lang: str) -> list:
    cards = []
    for chain in chain_view.itertuples():
        status = resilience.score_status(chain.score)
        headline = (
            t("chaos.no_score", lang)
            if pd.isna(chain.score)
            else t("chaos.weakest", lang, service=chain.weakest_service, step=chain.weakest_step)
        )
        steps = coverage[coverage["chain"] == chain.chain]
        cards.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.H3(chain.chain_name),
                            html.Span(
                                [html.Span(STATUS_ICONS[status], className="oc-icon"), _score_text(chain.score)],
                                className=f"oc-badge oc-{status}",
                            ),
                            html.Span(headline, className="oc-chaos-weakest"),
                            html.Span(
                                t("chaos.scored_steps", lang, scored=chain.scored_steps, steps=chain.steps),
                                className="oc-chaos-muted",
                            ),
                        ],
                        className="oc-chaos-chain-head",
                    ),
                    html.Div([_step(row, scores, tz, lang) for row in steps.itertuples()], className="oc-chaos-steps"),
                ],
                className=f"oc-chaos-chain oc-{status}",
                **{"data-chain": chain.chain},
            )
        )
    return cards


def _link(row) -> str:
    return resilience.impact_link(row.service, row.started_at, row.ended_at) if isinstance(row.service, str) else ""


def _run_rows(runs: pd.DataFrame, tz: str, lang: str) -> list[dict]:
    reasons = runs["x_reason"] if "x_reason" in runs else pd.Series(None, index=runs.index, dtype="object")
    impact = t("chaos.impact", lang)
    return [
        {
            "run_id": r.run_id,
            "started": _local(r.started_at, tz),
            "service": r.service or "",
            "experiment": r.experiment,
            "fault": r.fault or "",
            "status": t(f"chaos.status.{r.status}", lang),
            "status_key": r.status,
            "probes": None if pd.isna(r.probe_success_ratio) else round(100 * r.probe_success_ratio),
            "recovery_s": None if pd.isna(r.recovery_s) else round(r.recovery_s),
            "reason": reason if isinstance(reason, str) else "",
            "source": r.source,
            "impact": f"[{impact}]({_link(r)})" if isinstance(r.service, str) else "",
        }
        for r, reason in zip(runs.sort_values("started_at", ascending=False).itertuples(), reasons)
    ]


def _service_rows(summary: pd.DataFrame, runs: pd.DataFrame, tz: str, lang: str) -> list[dict]:
    last = runs.sort_values("started_at").groupby("service").last()
    impact = t("chaos.impact", lang)
    return [
        {
            "service": s.service,
            "score": None if pd.isna(s.score) else math.floor(s.score * 10) / 10,
            "score_key": resilience.score_status(s.score),
            "runs": int(s.runs),
            "pass_rate": _pct(s.pass_rate),
            "recovery_s": None if pd.isna(s.recovery_s) else round(s.recovery_s),
            "last_run": _local(s.last_run, tz),
            "last_status": t(f"chaos.status.{s.last_status}", lang),
            "status_key": s.last_status,
            "impact": f"[{impact}]({resilience.impact_link(s.service, s.last_run, last.loc[s.service, 'ended_at'])})",
        }
        for s in summary.itertuples()
    ]


STATUS_CELL_RULES = {f"oc-cell-run-{s}": f"params.data.status_key == '{s}'" for s in chaos_figures.RUN_STATUSES}
SCORE_CELL_RULES = {f"oc-cell-score-{s}": f"params.data.score_key == '{s}'" for s in ("ok", "warn", "crit")}


def _grid(grid_id: str, rows: list[dict], columns: list[dict], row_id: str) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id,
        rowData=rows,
        columnDefs=columns,
        getRowId=f"params.data.{row_id}",
        columnSize="responsiveSizeToFit",
        className="ag-theme-alpine-dark oc-grid",
        dashGridOptions={
            "domLayout": "autoHeight",
            "pagination": True,
            "paginationPageSize": 20,
            "paginationPageSizeSelector": False,
        },
    )


def _service_grid(rows: list[dict], lang: str) -> dag.AgGrid:
    col = lambda key: t(f"chaos.col.{key}", lang)  # noqa: E731
    return _grid(
        "oc-chaos-services",
        rows,
        [
            {"field": "service", "headerName": col("service"), "pinned": "left"},
            {"field": "score", "headerName": col("score"), "type": "rightAligned", "cellClassRules": SCORE_CELL_RULES},
            {"field": "runs", "headerName": col("runs"), "type": "rightAligned"},
            {"field": "pass_rate", "headerName": col("pass_rate"), "type": "rightAligned"},
            {"field": "recovery_s", "headerName": col("recovery"), "type": "rightAligned"},
            {"field": "last_run", "headerName": col("last_run")},
            {"field": "last_status", "headerName": col("last_status"), "cellClassRules": STATUS_CELL_RULES},
            {"field": "impact", "headerName": col("impact"), "cellRenderer": "markdown"},
        ],
        "service",
    )


def _runs_grid(rows: list[dict], lang: str) -> dag.AgGrid:
    col = lambda key: t(f"chaos.col.{key}", lang)  # noqa: E731
    return _grid(
        "oc-chaos-runs",
        rows,
        [
            {"field": "started", "headerName": col("started"), "pinned": "left"},
            {"field": "service", "headerName": col("service")},
            {"field": "experiment", "headerName": col("experiment"), "flex": 2},
            {"field": "fault", "headerName": col("fault")},
            {"field": "status", "headerName": col("status"), "cellClassRules": STATUS_CELL_RULES},
            {"field": "probes", "headerName": col("probes"), "type": "rightAligned"},
            {"field": "recovery_s", "headerName": col("recovery_s"), "type": "rightAligned"},
            {"field": "reason", "headerName": col("reason"), "flex": 3, "wrapText": True, "autoHeight": True},
            {"field": "impact", "headerName": col("impact"), "cellRenderer": "markdown"},
        ],
        "run_id",
    )


def _score_text(score) -> str:
    """Scores are shown rounded down, so a shown 90 always means at least 90."""
    return "–" if score is None or pd.isna(score) else str(math.floor(score))


def _panel(title: str, *children, class_name: str = "") -> html.Section:
    return html.Section([html.H2(title), *children], className=f"oc-panel oc-chaos-panel {class_name}".strip())


def body(lang: str, raw_from: str | None, raw_to: str | None, versions: dict | None = None) -> list:
    """The page's content from the current frames."""
    ctx = context.current()
    tz = ctx.settings.display_tz
    try:
        window = urlinput.window(raw_from or DEFAULT_FROM, raw_to)
    except urlinput.UrlInputError as exc:
        return [html.Div(t("chaos.bad_window", lang, error=str(exc)), className="oc-empty")]
    frames = (versions or {}).get("frames")
    all_runs = ctx.store.frame("chaos_runs", frames)
    chains = ctx.store.frame("chains", frames)
    runs = resilience.in_window(all_runs, window.start, window.end)
    scores = resilience.service_scores(runs)
    coverage = resilience.coverage(chains, all_runs, window.end.tz_convert("UTC"))
    header = html.Div(
        [
            _kpis(runs, coverage, lang),
            html.Span(
                t("chaos.window", lang, start=_local(window.start, tz), end=_local(window.end, tz)),
                className="oc-chaos-muted",
            ),
        ],
        className="oc-chaos-header",
    )
    chain_cards = _chain_cards(resilience.chain_scores(chains, scores), coverage, scores, tz, lang)
    if runs.empty:
        figures = [html.Div(t("chaos.no_runs", lang), className="oc-empty")]
    else:
        rows = resilience.timeline_rows(chains, runs)
        figures = [
            graph("oc-chaos-timeline", chaos_figures.timeline_height(rows), chaos_figures.runs_timeline(rows, tz, lang))
        ]
    return [
        header,
        _panel(
            t("chaos.chains", lang),
            html.Div(chain_cards, className="oc-chaos-chains"),
            html.P(t("chaos.score_rule", lang), className="oc-chaos-muted oc-chaos-rule"),
        ),
        html.Div(
            [
                _panel(t("chaos.timeline", lang), *figures, class_name="oc-chaos-wide"),
                _panel(
                    t("chaos.per_day", lang),
                    graph(
                        "oc-chaos-per-day",
                        f"{chaos_figures.PER_DAY_REM:g}rem",
                        chaos_figures.runs_per_day(runs, tz, lang),
                    ),
                ),
            ],
            className="oc-chaos-figures",
        ),
        _panel(
            t("chaos.services", lang),
            _service_grid(_service_rows(resilience.service_summary(runs), runs, tz, lang), lang),
        ),
        _panel(t("chaos.recent_runs", lang), _runs_grid(_run_rows(runs, tz, lang), lang)),
    ]


def layout(lang: str | None = None, **query) -> html.Div:
    """The page; ``?from=&to=`` (default the last 30 days), ``?lang=zh``."""
    lang = pick_lang(lang, context.current().settings.language)
    state = {"lang": lang, "from": query.get("from"), "to": query.get("to")}
    return html.Div(
        [
            dcc.Store(id=STATE_STORE, data=state),
            html.H1(t("chaos.title", lang)),
            html.Div(body(lang, state["from"], state["to"]), id=ids.CHAOS_BODY, className="oc-chaos-body"),
        ],
        className="oc-page oc-chaos",
    )


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.chaos"))

    @app.callback(
        Output(ids.CHAOS_BODY, "children"),
        Input(ids.VERSIONS, "data"),
        State(STATE_STORE, "data"),
        prevent_initial_call=True,
    )
    def refresh_chaos(versions, state):
        state = state or {}
        return body(state.get("lang", "en"), state.get("from"), state.get("to"), versions)
