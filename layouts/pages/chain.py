"""/chain/<chain>: a business chain's business figures first, then its steps now and over the window, and its
bottleneck."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import context, formats, ids
from dashboard.analytics import chainnow, drilldown, health, rollup, sites, wallframes, wallmodel
from dashboard.core import timewindow
from dashboard.figures import drill as drill_figures
from dashboard.i18n import pick_lang, t
from dashboard.security import urlinput
from layouts.components import business_figures, views
from layouts.components import drill_parts as parts
from layouts.components.graphs import graph
from layouts.components.incident_parts import health_badge
from layouts.components.titles import page_title

PATH_TEMPLATE = "/chain/<chain>"
# the stored views its steps are drawn from
CHAIN_VIEWS = ("service_health", "service_status", "status_reasons", "chain_sites")


@dataclass
class Model:
    """What the page shows, computed from the frames."""

    name: str
    stats: pd.DataFrame
    names: dict[str, str]
    metrics: pd.DataFrame
    now: chainnow.ChainNow
    window_bottleneck: drilldown.Bottleneck | None
    live: bool  # the window reaches the latest minutes
    sites: pd.DataFrame
    business: pd.DataFrame  # the chain's business_metrics rows
    versions_key: tuple  # the frame versions it was read at
    digest: str

    @property
    def bottleneck(self) -> drilldown.Bottleneck | None:
        """The step named: in a window that reaches now, the latest minutes' when a step needs attention now;
        else the window's."""
        return (self.now.bottleneck if self.live else None) or self.window_bottleneck


def _now(
    chain: str, steps: pd.DataFrame, services: pd.DataFrame, metrics: pd.DataFrame, versions: dict[str, int]
) -> tuple[chainnow.ChainNow, pd.DataFrame]:
    """The steps now by the wall's roll-up and the chain's site shares: the same for every window and
    viewer, so computed once per frame version in the worker's memo. From the poller's views of the
    estate when they are current (and the steps' services' partitions of the metrics), else from the
    frames as the wall computes them."""
    ctx = context.current()
    store, names = ctx.store, steps["service"].unique()

    def compute() -> tuple[chainnow.ChainNow, pd.DataFrame]:
        now, rules = pd.Timestamp.now("UTC"), ctx.settings.health
        kept = views.stored(store, versions, store.statuses(), now, ctx.offered, rules, CHAIN_VIEWS)
        if kept is not None:
            evaluated = drilldown.rows_for(kept["service_health"], "service", names)
            rolled = wallframes.rolled(
                drilldown.rows_for(kept["service_status"], "service", names),
                drilldown.rows_for(kept["status_reasons"], "service", names),
            )
            shares = kept["chain_sites"][kept["chain_sites"]["chain"] == chain]
            return chainnow.chain_now(steps, evaluated, rolled, metrics), shares.reset_index(drop=True)
        instances, resources = store.frame("instances", versions), store.frame("resource_metrics", versions)
        newest = store.frame("service_metrics", versions)["ts"].max() if len(metrics) else None
        evaluated = health.evaluate(services, metrics, ctx.settings.health)
        rolled = rollup.services(
            evaluated,
            drilldown.rows_for(store.frame("alerts", versions), "service", names),
            drilldown.rows_for(store.frame("anomalies", versions), "service", names),
            drilldown.rows_for(resources, "service", names),
            drilldown.rows_for(instances, "service", names),
            sites.site_states(instances, resources),
            ctx.settings.health["amber_at"],
            newest,
        )
        shares = sites.chain_sites(steps, instances, drilldown.rows_for(resources, "service", names))
        return chainnow.chain_now(steps, evaluated, rolled, metrics), shares

    return ctx.memo.get(("chain.now", chain), tuple(sorted(versions.items())), compute)


def model(chain: str, window: timewindow.Window, versions: dict | None) -> Model | None:
    """The chain's steps over ``window`` and now, read at the versions the stored views come from while they may
    stand for the newest frames (``views.drawn_versions``, as the wall reads them); None when the chain is unknown."""
    ctx = context.current()
    store = ctx.store
    versions = views.drawn_versions(
        store, versions or store.versions(), store.statuses(), pd.Timestamp.now("UTC"), ctx.settings.health
    )
    steps = drilldown.chain_steps(store.frame("chains", versions), chain)
    if steps.empty:
        return None
    names = steps["service"].unique()
    services = drilldown.rows_for(store.frame("services", versions), "service", names)
    recent = store.frame("service_metrics", versions, services=names)
    metrics = drilldown.within(recent, "ts", window.start, window.end)
    stats = drilldown.step_stats(steps, metrics)
    targets = health.targets(services, ctx.settings.health)
    now, shares = _now(chain, steps, services, recent, versions)
    key = tuple(sorted(versions.items()))

    def business_rows() -> pd.DataFrame:
        figures = store.frame("business_metrics", versions)
        return figures[figures["chain"] == chain].reset_index(drop=True)

    figures = ctx.memo.get(("chain.business_rows", chain), key, business_rows)
    return Model(
        name=str(steps["chain_name"].iloc[0]),
        stats=stats,
        names=dict(zip(services["service"], services["display_name"])),
        metrics=metrics,
        now=now,
        window_bottleneck=drilldown.bottleneck(stats, dict(zip(targets["service"], targets["error_target"]))),
        live=bool(len(recent)) and window.end > recent["ts"].max() - pd.Timedelta(minutes=health.RECENT_MINUTES),
        sites=shares,
        business=figures,
        versions_key=key,
        digest=parts.digest(
            metrics, now.steps.drop(columns="reasons").assign(reasons=now.steps["reasons"].map(repr)), figures
        ),
    )


def _now_block(now, lang: str) -> html.Div:
    """A step's status over the latest minutes, its first reason and its latest figures."""
    why = wallmodel.reason_text(now.reasons[0], lang) if now.reasons else ""
    return html.Div(
        [
            html.Div(
                [
                    html.Span(t("chain.now", lang, minutes=health.RECENT_MINUTES), className="oc-step-label"),
                    health_badge(now.status, lang),
                ],
                className="oc-step-now-head",
            ),
            html.Div(why, className="oc-step-why", title=why),
            html.Div(
                " · ".join(
                    (
                        f"p95 {formats.fmt_ms(now.latency_p95_ms)}",
                        f"{t('chain.errors', lang)} {formats.fmt_pct(now.error_ratio)}",
                        formats.fmt_rate(now.requests_per_s),
                    )
                ),
                className="oc-step-now-figures",
            ),
        ],
        className=f"oc-step-now oc-{now.status}",
        **{"data-status": now.status},
    )


def _step_card(row, now, m: Model, state: dict, window: timewindow.Window) -> dcc.Link:
    lang = state["lang"]
    hot = m.bottleneck is not None and m.bottleneck.service == row.service
    share = row.latency_share if pd.notna(row.latency_share) else 0.0
    card = html.Div(
        [
            html.Div(
                [
                    html.Span(t("chain.step", lang, step=row.step)),
                    *([html.Span(t("chain.bottleneck", lang), className="oc-step-flag")] if hot else []),
                ],
                className="oc-step-no",
            ),
            html.Div(m.names.get(row.service, row.service), className="oc-step-name"),
            _now_block(now, lang),
            html.Div(t("chain.over_window", lang), className="oc-step-label"),
            html.Dl(
                [
                    html.Dt(t("chain.rate", lang)),
                    html.Dd(formats.fmt_rate(row.requests_per_s)),
                    html.Dt("p50"),
                    html.Dd(formats.fmt_ms(row.latency_p50_ms)),
                    html.Dt("p95"),
                    html.Dd(formats.fmt_ms(row.latency_p95_ms), className="oc-step-main"),
                    html.Dt("p99"),
                    html.Dd(formats.fmt_ms(row.latency_p99_ms)),
                    html.Dt(t("chain.errors", lang)),
                    html.Dd(formats.fmt_pct(row.error_ratio)),
                ],
                className="oc-step-stats",
            ),
            html.Div(
                html.Div(className="oc-share-fill", style={"width": f"{share:.0%}"}),
                className="oc-share",
                title=t("chain.share", lang, share=share),
            ),
            html.Div(t("chain.share", lang, share=share), className="oc-share-text"),
        ],
        className=f"oc-step oc-step-{now.status}" + (" oc-step-hot" if hot else ""),
        **{"data-service": row.service, "data-now": now.status},
    )
    return dcc.Link(
        card,
        href=parts.href(
            "service", row.service, window, chain=state["chain"], lang=state["query_lang"], site=state.get("site")
        ),
        className="oc-step-link",
    )


def _steps(m: Model, state: dict, window: timewindow.Window) -> list:
    return [
        _step_card(row, now, m, state, window)
        for row, now in zip(m.stats.itertuples(index=False), m.now.steps.itertuples(index=False))
    ]


def _callout(m: Model, lang: str) -> list:
    b = m.bottleneck
    if b is None:
        return [html.Span(t("chain.no_bottleneck", lang))]
    name = m.names.get(b.service, b.service)
    if not b.now:
        return [
            html.Span(["■ ", t("chain.bottleneck", lang)], className="oc-callout-tag"),
            html.Span(
                t(f"chain.bottleneck_{b.reason}", lang, service=name, share=b.share),
                **{"data-service": b.service, "data-reason": b.reason, "data-when": "window"},
            ),
        ]
    reasons = m.now.steps.loc[m.now.steps["service"] == b.service, "reasons"].iloc[0]
    line = [
        html.Span(["■ ", t("chain.bottleneck_now", lang)], className="oc-callout-tag"),
        html.Span(
            t(
                f"chain.now_{b.reason}",
                lang,
                service=name,
                share=b.share,
                minutes=health.RECENT_MINUTES,
                why=wallmodel.reason_text(reasons[0], lang) if reasons else "–",
            ),
            **{"data-service": b.service, "data-reason": b.reason, "data-when": "now"},
        ),
    ]
    before = m.window_bottleneck
    if before is not None and before.service != b.service:
        line.append(
            html.Div(
                t(
                    f"chain.window_{before.reason}",
                    lang,
                    service=m.names.get(before.service, before.service),
                    share=before.share,
                ),
                className="oc-callout-aside",
                **{"data-window-service": before.service},
            )
        )
    return line


def _figure(m: Model, window: timewindow.Window, lang: str):
    tz = context.current().settings.display_tz
    return drill_figures.chain_latency(
        m.metrics,
        m.stats,
        m.names,
        m.bottleneck.service if m.bottleneck else None,
        tz,
        t("chain.figure", lang),
        (window.start, window.end),
    )


def _business(chain: str, m: Model, lang: str) -> list:
    """The chain's business figures, its headline (``health.business``) first: the same for every window
    and viewer, so drawn once per frame version and language in the worker's memo."""
    ctx = context.current()
    rule = ctx.settings.health.get("business", {}).get(chain)
    draw = lambda: business_figures.chain_row(m.business, chain, rule, lang, ctx.settings.display_tz)  # noqa: E731
    return ctx.memo.get(("chain.business", chain, lang), m.versions_key, draw)


def _site_labels(m: Model, lang: str) -> dict[str, str]:
    """Each site's label: its name, current traffic share and health."""
    return {r.site: f"{r.site} {r.share:.0%} · {t(f'status.{r.status}', lang)}" for r in m.sites.itertuples()}


def layout(chain: str | None = None, lang: str | None = None, site: str | None = None, **query) -> html.Div:
    """The chain page for ``chain`` over ``?from=&to=``; ``?site=`` is carried to the service pages."""
    ctx = context.current()
    query_lang, lang = lang, pick_lang(lang, ctx.settings.language)
    try:
        chain = urlinput.clean("chain", unquote(chain or "")) or ""
        window = urlinput.window(query.get("from"), query.get("to"))
        site = urlinput.clean("site", site)
    except urlinput.UrlInputError as exc:
        return parts.problem("bad_request", t("drill.bad_input", lang, reason=exc), lang)
    m = model(chain, window, None)
    if m is None:
        return parts.problem("not_found", t("drill.no_chain", lang, name=chain), lang)
    state = {
        "chain": chain,
        "site": site,
        "from": window.raw_from,
        "to": window.raw_to,
        "lang": lang,
        "query_lang": query_lang,
        "digest": m.digest,
    }
    return html.Div(
        [
            dcc.Store(id=ids.CHAIN_STATE, data=state),
            parts.breadcrumbs([(t("drill.wall", lang), "/wall"), (m.name, None)]),
            html.H1([html.Span(t("chain.title", lang), className="oc-kind"), m.name]),
            parts.window_bar("chain", chain, window, ctx.settings.display_tz, lang, {"lang": query_lang, "site": site}),
            *(
                [parts.site_bar("chain", chain, window, _site_labels(m, lang), site, lang, {"lang": query_lang})]
                if len(m.sites)
                else []
            ),
            html.H2(t("business.title", lang), className="oc-section-title"),
            html.Div(_business(chain, m, lang), id=ids.CHAIN_BUSINESS, className="oc-biz-row"),
            html.H2(t("business.technical", lang), className="oc-section-title"),
            html.Div(_callout(m, lang), id=ids.CHAIN_BOTTLENECK, className="oc-callout"),
            html.Div(_steps(m, state, window), id=ids.CHAIN_STEPS, className="oc-steps"),
            graph(ids.CHAIN_FIGURE, "42vh", _figure(m, window, lang)),
        ],
        className="oc-page oc-drill",
        **{"data-chain": chain},
    )


def register(app: dash.Dash) -> None:
    """Register the page and its refresh callback on ``app``."""
    dash.register_page(__name__, path_template=PATH_TEMPLATE, layout=layout, title=page_title("title.chain", "chain"))

    @app.callback(
        Output(ids.CHAIN_BOTTLENECK, "children"),
        Output(ids.CHAIN_STEPS, "children"),
        Output(ids.CHAIN_FIGURE, "figure"),
        Output(ids.CHAIN_STATE, "data"),
        Output(ids.CHAIN_BUSINESS, "children"),
        Input(ids.VERSIONS, "data"),
        State(ids.CHAIN_STATE, "data"),
        prevent_initial_call=True,
    )
    def refresh_chain(versions, state):
        """Redraw when the rows the page shows have changed."""
        window = timewindow.resolve(state["from"], state["to"])
        m = model(state["chain"], window, (versions or {}).get("frames"))
        if m is None or m.digest == state["digest"]:
            raise PreventUpdate
        lang = state["lang"]
        return (
            _callout(m, lang),
            _steps(m, state, window),
            _figure(m, window, lang),
            {**state, "digest": m.digest},
            _business(state["chain"], m, lang),
        )
