"""/wall: the operations center's big screen.

Header (centre, overall status and how many services need attention, market sessions,
when the data was last updated, clock), banners for open P1 incidents and troubled
sites, the key figures, every business chain as a flow of service tiles, and at the side the
market strip (each market's feeds: live, late at which sites, closed), the firing
alerts, active incidents, changes in progress and latest chaos runs. A service's status
is the roll-up of everything known about it (``analytics.rollup``); a chain takes its
worst step's, the header its chains'.

One callback follows the versions store. Per panel it compares the versions of the
frames the panel reads with those it last drew: unchanged means ``no_update``. Tiles
are painted in the browser from a compact tile model the server updates with ``Patch``
(at hundreds of tiles, per-tile component updates would cost the browser more than the
data); lists are replaced only when their content changed. Stale panels keep their last
values, greyed, with the time of their sources' last success; a panel whose sources fail
says "unknown" and since when, never a count of zero.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import dash
import pandas as pd
from dash import ALL, ClientsideFunction, Input, Output, Patch, State, ctx, dcc, html

from dashboard import context, formats, ids
from dashboard.analytics import kpis, rollup, sites, slo, wallframes, wallmodel, wallview
from dashboard.command import oversight
from dashboard.core.freshness import Freshness, freshness
from dashboard.core.status import newest_success
from dashboard.core.store import DERIVED_SOURCE
from dashboard.figures import STATUS_COLOURS
from dashboard.i18n import CATALOG, pick_lang, t, template
from layouts.components import business_figures, duty, freeze_parts, incident_declare, market_strip, views
from layouts.components.incident_parts import acknowledgements
from layouts.components.titles import page_title

PATH = "/wall"
PANELS = {  # panel -> the frames it reads
    "status": ("services", "service_metrics", "incidents"),
    "chains": (
        "services",
        "chains",
        "service_metrics",
        "anomalies",
        "instances",
        "resource_metrics",
        "log_rates",
        "business_metrics",
    ),
    "alerts": ("alerts",),
    "incidents": ("incidents", "incident_command"),
    "changes": ("changes", "freeze_breaches"),
    "chaos": ("chaos_runs", "freeze_breaches"),
    "kpi.availability": ("service_metrics",),
    "kpi.mtta": ("incidents",),
    "kpi.mttr": ("incidents",),
    "kpi.changes": ("changes",),
    "kpi.chaos": ("chaos_runs",),
    "feeds": ("feed_status",),
}
KPIS = tuple(p for p in PANELS if p.startswith("kpi."))
TILES = ("chains", "alerts")  # the panels whose frames the tile model reads (alerts do not grey the tiles)
READS = ("wall_model", "spark", "kpi_events", "request_totals", "freeze_breaches")  # the views a refresh reads
# as frames, in one round trip: the tile model, the sparklines, the key figures' events and the freeze breaches
DRAWN = (*READS, "service_health")  # and those the chains' first drawing reads
LISTED = ("wall_incidents", "wall_alerts", "wall_changes", "wall_chaos", "chain_business", "site_states")  # the
# views a refresh reads as rows, in one round trip: the lists, the chains' business headlines, the sites
MARKETS = ("wall_markets",)  # the market strip's rows, read on its own tick
MAX_ALERTS = 4
MAX_INCIDENTS = 8
MAX_CHANGES = 3
CHAOS_ICONS = {"passed": "●", "failed": "■", "aborted": "▲", "running": "▶", "not_run": "◌"}
SEVERITY_STATUS = {"critical": "crit", "warning": "warn", "info": "nodata"}


class Refresh:
    """Everything one drawing of the wall reads: frames at given versions, statuses, now, language."""

    def __init__(self, lang: str, versions: dict[str, int] | None = None):
        app = context.current()
        self.lang, self.settings, self.store, self.memo = lang, app.settings, app.store, app.memo
        self.now = pd.Timestamp(datetime.now(UTC))
        self.tz = ZoneInfo(self.settings.display_tz)
        self.statuses = self.store.statuses()
        self.versions = views.drawn_versions(
            self.store, versions or self.store.versions(), self.statuses, self.now, self.settings.health
        )
        self.as_of = newest_success(self.statuses)
        self.offered = app.offered
        self.fresh: dict[str, Freshness] = {
            p: freshness(f, self.statuses, self.now, self.offered) for p, f in PANELS.items()
        }

    def frame(self, name: str) -> pd.DataFrame:
        return self.store.frame(name, self.versions)

    def local(self, stamp, seconds: bool = False) -> str:
        if stamp is None or pd.isna(stamp):
            return "–"
        return pd.Timestamp(stamp).tz_convert(self.tz).strftime("%H:%M:%S" if seconds else "%H:%M")

    def version_key(self, panel: str) -> list[int] | None:
        """What the panel's content depends on; None while no source has delivered its frames."""
        fresh = self.fresh[panel]
        return fresh.version_key(self.versions) if fresh.sources else None

    def cached(self, name: str, build, *panels: str, per_minute: bool = False, extra=None, per_language=True):
        """``build()`` once per versions of ``panels``' frames and language (unless not ``per_language``; and
        minute, and ``extra``), for every viewer of this worker."""
        version = (
            *(tuple(self.version_key(p) or ()) for p in panels),
            self.now.floor("min") if per_minute else None,
            extra,
        )
        return self.memo.get((name, self.lang if per_language else None), version, build)

    def missing(self, panel: str) -> str:
        """Why a panel nobody has delivered to is empty: its sources fail, have not answered yet, or none
        is configured."""
        fresh = self.fresh[panel]
        if fresh.unknown:
            return self.unknown(panel)
        return t("wall.waiting" if fresh.waiting else "wall.unconfigured", self.lang)

    def unknown(self, panel: str) -> str:
        """``unknown: <sources> failing since HH:MM`` while the panel's sources fail (``anomalies: learning
        since HH:MM`` while they are only the derived step learning first models), else empty."""
        fresh = self.fresh[panel]
        if not fresh.unknown:
            return ""
        since = self.local(fresh.failing_since)
        if all((self.statuses.get(s) or {}).get("pending") == "learning" for s in fresh.unknown):
            return t("wall.learning", self.lang, time=since)
        return t("wall.unknown", self.lang, sources=", ".join(fresh.unknown), time=since)

    def stale_label(self, panel: str) -> str:
        fresh = self.fresh[panel]
        if fresh.unknown or not fresh.sources:
            return self.missing(panel)
        return t("wall.stale_since", self.lang, time=self.local(fresh.since)) if fresh.stale else ""

    def count(self, panel: str, count: int) -> str:
        """A panel's count; ``?`` while its sources fail and ``–`` before any delivered: a zero nobody
        reported is not known."""
        fresh = self.fresh[panel]
        return "?" if fresh.unknown else (str(count) if fresh.sources else "–")

    def header_unknown(self) -> str:
        """Why the header cannot tell the estate's status: the tiles' metrics fail, are late or never came."""
        return self.stale_label("chains") if self.fresh["chains"].is_stale else ""

    def views(self, names: tuple[str, ...] = READS) -> dict[str, pd.DataFrame]:
        """The wall's views ``names`` (``analytics.wallframes``) at these versions, once per version in any
        language: the poller's when they come from the frames at these versions (``views.drawn_versions`` makes
        the versions a refresh draws those of the stored views while their derivation is fresh), else computed
        here."""
        return self.cached(("views", names), lambda: self._views(names), *PANELS, per_language=False)

    def _views(self, names: tuple[str, ...]) -> dict[str, pd.DataFrame]:
        rules = self.settings.health
        kept = views.stored(self.store, self.versions, self.statuses, self.now, self.offered, rules, names)
        return kept if kept is not None else self.cached("computed", self._compute, *PANELS, per_language=False)

    def _compute(self) -> dict[str, pd.DataFrame]:
        closures = context.current().calendar.closures()
        slo_status = self.frame("slo_status")
        return {
            **wallframes.compute(self.frame, self.settings.health, acknowledgements(), closures, slo_status),
            "freeze_breaches": self.frame("freeze_breaches"),
        }

    def model(self) -> dict[str, tuple[str, str]]:
        """The tile model's parts in the page's language (``wallmodel``), as JSON with their digests."""
        build = lambda: wallmodel.in_language(self.views()["wall_model"], self.lang)  # noqa: E731
        return self.cached("model", build, *PANELS, extra=self.versions.get(DERIVED_SOURCE))

    def rows(self, view: str, names: tuple[str, ...] = LISTED) -> list[dict]:
        """The rows of ``view``, one of the small views ``names`` read together, in plain Python
        (``wallframes.records``), once per version in any language: the poller's while they come from the frames
        at these versions (as ``views``), else those of the views computed here."""
        return self.cached(("rows", names), lambda: self._rows(names), *PANELS, per_language=False)[view]

    def _rows(self, names: tuple[str, ...]) -> dict[str, list[dict]]:
        rules = self.settings.health
        kept = views.stored(self.store, self.versions, self.statuses, self.now, self.offered, rules, names, rows=True)
        if kept is not None:
            return kept
        computed = self.cached("computed", self._compute, *PANELS, per_language=False)
        return {name: wallframes.records(computed[name]) for name in names}

    def freeze_breaches(self) -> dict[tuple[str, str], dict]:
        """The poller's freeze breaches by (kind, id) (``freeze_parts.by_id``), once per version in any language."""
        build = lambda: freeze_parts.by_id(self.views()["freeze_breaches"])  # noqa: E731
        return self.cached("freeze", build, "changes", "chaos", per_language=False)

    def names(self) -> dict[str, str]:
        """Each service's display name in the page's language."""
        return self.cached("names", lambda: json.loads(self.model()[wallmodel.NAMES][0]), "chains")

    def structure(self) -> list[dict]:
        """The chains as drawn, in the page's language (``wallview.structure``)."""
        return json.loads(self.model()[wallmodel.STRUCTURE][0])

    def evaluated(self) -> pd.DataFrame:
        """Each service's health, with its name in the page's language."""
        evaluated = self.views(DRAWN)["service_health"]
        return evaluated.assign(display_name=evaluated["service"].map(self.names()))


def _digest(value) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _with_digest(value) -> tuple:
    return value, _digest(value)


# ---------------------------------------------------------------- chains and tiles


def _tile(index: int, row, lang: str, amber_at: float) -> dcc.Link:
    """A tile's frame and name; the browser adds its status, figures and sparkline (``assets/wall.js``)."""
    rule = t(
        "tile.rule",
        lang,
        p95=f"{row.p95_target_ms:.0f}",
        err=f"{row.error_target:.1%}",
        amber_p95=f"{amber_at * row.p95_target_ms:.0f}",
        amber_err=f"{amber_at * row.error_target:.1%}",
    )
    title = f"{row.display_name} ({row.service})\n{t('tile.metrics', lang)}\n{rule}"
    tile = html.Div(
        html.Div(row.display_name, className="oc-tile-name", lang=lang),
        className="oc-tile oc-nodata",
        title=title,
        **{"data-title": title, "data-service": row.service, "data-index": index},
    )
    return dcc.Link(tile, href=f"/service/{quote(row.service)}", className="oc-tile-link")


def _chain_sections(layout: list[dict], evaluated: pd.DataFrame, lang: str, amber_at: float, offered) -> list:
    if not layout:
        return [
            html.Div(
                t("wall.no_chains" if "chains" in offered else "wall.chains_unconfigured", lang), className="oc-empty"
            )
        ]
    rows = {r.service: r for r in evaluated.itertuples(index=False)}
    sections, index = [], 0
    for chain in layout:
        tiles = []
        for service in chain["services"]:
            tiles.append(_tile(index, rows[service], lang, amber_at))
            index += 1
        sections.append(
            html.Section(
                [
                    html.Header(
                        [
                            dcc.Link(html.H2(chain["name"], lang=lang), href=f"/chain/{quote(chain['chain'])}"),
                            html.Span(
                                [html.Span(className="oc-biz-wall-value"), html.Span(className="oc-biz-wall-label")],
                                className="oc-chain-business oc-biz-absent",
                            ),
                            html.Span(className="oc-badge oc-chain-status"),
                            html.Span(className="oc-chain-why"),
                            html.Span(className="oc-badge oc-chain-budget oc-nodata"),
                            html.Span(
                                className="oc-chain-sites",
                                title=t("sites.rule", lang, crit=sites.DRAINED, warn=sites.LOW),
                            ),
                        ],
                        className="oc-chain-head",
                    ),
                    html.Div(tiles, className="oc-flow"),
                ],
                className="oc-chain oc-nodata",
                **{"data-chain": chain["chain"]},
            )
        )
    return sections


def _budget_titles(refresh: Refresh) -> dict[str, str]:
    """The budget badges' tooltips, per alert."""
    lang, days = refresh.lang, refresh.settings.slo.window_days
    return {
        alert: t("slo.badge_title", lang, days=days, alert=t(f"slo.alert.{alert}", lang))
        for alert in (*slo.ALERTS, slo.NO_DATA)
    }


def _business(refresh: Refresh) -> tuple[list, str]:
    """Each chain's business headline (``business_figures.wall_headlines``) and its digest."""
    headlines = business_figures.wall_headlines(
        refresh.rows("chain_business"), refresh.structure(), refresh.lang, refresh.tz
    )
    return headlines, _digest(headlines)


def _tile_parts(refresh: Refresh) -> dict[str, tuple]:
    """Each part of the tile model but the sparklines, with its digest, once per version."""

    def build() -> dict[str, tuple]:
        stored = refresh.model()
        return {part: (json.loads(stored[part][0]), stored[part][1]) for part in wallmodel.PARTS}

    parts = refresh.cached("tiles", build, *PANELS, extra=refresh.versions.get(DERIVED_SOURCE))
    return {**parts, "business": refresh.cached("business", lambda: _business(refresh), "chains")}


def _alarm(refresh: Refresh) -> str:
    """What the open incidents say of the estate (``wallview.incident_status``): the header is raised to it."""
    return json.loads(refresh.model()[wallmodel.ALARM][0])


def _full_model(refresh: Refresh) -> dict:
    """The whole tile model, with what never changes while the page is shown and the whole last hour."""
    lang = refresh.lang
    labels = {
        **{s: t(f"status.{s}", lang) for s in STATUS_COLOURS},
        "unknown": t("status.unknown", lang),
        "latency": t("tile.latency", lang),
        "errors": t("tile.errors", lang),
    }
    return {
        "labels": labels,
        "logs_label": template("logs.tooltip", lang),
        "budget_titles": _budget_titles(refresh),
        "page": refresh.now.timestamp(),
        "alarm": _alarm(refresh),
        "unknown": refresh.header_unknown(),
        **{part: value for part, (value, _) in _tile_parts(refresh).items()},
        "spark": wallview.spark_points(refresh.views()["spark"], None),
    }


def _last_spark_ms(model: dict, previous: int | None) -> int | None:
    stamps = model["spark"]["t"]
    return stamps[-1] if stamps else previous


def _site_banner(refresh: Refresh) -> list:
    """A row per drained, thinned or silent site, with its share of the traffic and the services it carries."""
    lang, rows = refresh.lang, []
    for site in (row for row in refresh.rows("site_states") if row["status"] in rollup.ATTENTION):
        detail = (
            t("wall.site_silent_detail", lang, instances=site["instances"], services=site["services"])
            if site["kind"] == "silent"
            else t(
                "wall.site_detail",
                lang,
                share=formats.fmt_pct(site["share"], 0),
                even=formats.fmt_pct(site["even"], 0),
                services=site["services"],
            )
        )
        rows.append(
            html.Div(
                [
                    html.Span(
                        [
                            html.Span(className="oc-shape"),
                            t("wall.site_banner", lang, site=site["site"], state=t(f"site.{site['kind']}", lang)),
                        ],
                        className="oc-banner-kind",
                    ),
                    html.Span(detail, className="oc-banner-meta"),
                ],
                className=f"oc-banner-row oc-site-row oc-{site['status']}",
                **{"data-site": site["site"]},
            )
        )
    return rows


# ---------------------------------------------------------------- incidents, changes, chaos


def _age(opened: pd.Timestamp, refresh: Refresh) -> html.Span:
    parts = wallview.age_parts(opened, refresh.now)
    key = "wall.age_d" if parts["d"] else ("wall.age_h" if parts["h"] else "wall.age_m")
    return html.Span(
        t(key, refresh.lang, **parts), className="oc-age", **{"data-since": int(opened.timestamp() * 1000)}
    )


def _preplan(url: str | None, lang: str, named: bool = True):
    """A link to the incident's pre-plan; ``named=False`` keeps its name for the tooltip (the side column)."""
    name = wallview.preplan_name(url)
    if not name:
        return None
    label = f"{t('wall.preplan', lang)}: {name}"
    return html.A(
        [html.Span("▣ ", className="oc-icon"), label if named else t("wall.preplan", lang)],
        href=url,
        className="oc-preplan",
        target="_blank",
        title=label,
    )


def _incident_items(refresh: Refresh) -> tuple[list, int]:
    lang = refresh.lang
    if not refresh.fresh["incidents"].sources:
        return [html.Div(refresh.missing("incidents"), className="oc-empty")], 0
    active = refresh.rows("wall_incidents")
    if not active:
        return [html.Div(t("wall.no_incidents", lang), className="oc-empty")], 0
    limits = oversight.stale_after(context.current().settings.command.stale_after_min)
    items = [
        html.Li(
            [
                html.Span(f"P{row['priority']}", className=f"oc-prio oc-p{row['priority']}"),
                html.Div(
                    [
                        html.Div(
                            [
                                html.Span(row["title"], className="oc-inc-title"),
                                _preplan(row["runbook_url"], lang, False),
                            ],
                            className="oc-inc-line",
                        ),
                        html.Div(
                            [
                                _age(row["opened_at"], refresh),
                                f" · {row['incident_id']} · {row['service'] or '–'} · "
                                f"{row['assignment_group'] or t('wall.unassigned', lang)}",
                            ],
                            className="oc-inc-meta",
                        ),
                        _command(row, limits, refresh),
                    ],
                    className="oc-inc-body",
                ),
            ],
            className=f"oc-incident oc-incident-p{row['priority']}",
            **{"data-incident": row["incident_id"]},
        )
        for row in active[:MAX_INCIDENTS]
    ]
    more = len(active) - MAX_INCIDENTS
    tail = [html.Li(t("wall.more", lang, count=more), className="oc-more", **{"data-count": more})] if more > 0 else []
    return [html.Ul(items + tail, className="oc-incidents")], len(active)


def _command(row: dict, limits: dict[int, float], refresh: Refresh):
    """Who commands a P1/P2 and since when it was updated (``wall_incidents``' row), else None."""
    if pd.isna(row["updated_at"]):
        return None
    stale_at = row["updated_at"] + pd.Timedelta(minutes=limits[row["priority"]])
    return incident_declare.command_span(row["commander"], row["updated_at"], stale_at, refresh.now, refresh.lang)


def _alert_items(refresh: Refresh) -> tuple[list, int]:
    """The firing alerts, critical first, newest first within a severity, and how many fire."""
    lang = refresh.lang
    if not refresh.fresh["alerts"].sources:
        return [html.Div(refresh.missing("alerts"), className="oc-empty")], 0
    firing = refresh.rows("wall_alerts")
    if not firing:
        return [html.Div(t("wall.no_alerts", lang), className="oc-empty")], 0
    names = refresh.names()
    items = [  # one line each; the summary in the tooltip
        html.Li(
            [
                html.Span(className=f"oc-shape oc-{SEVERITY_STATUS[row['severity']]}"),
                html.Span(
                    [
                        html.Span(row["name"], className="oc-alert-name"),
                        " ",
                        html.Span(
                            names.get(row["service"], row["service"]) if isinstance(row["service"], str) else "",
                            className="oc-alert-service",
                        ),
                    ],
                    className="oc-inc-title",
                ),
                _age(row["starts_at"], refresh),
            ],
            className=f"oc-alert oc-alert-{row['severity']}",
            title=row["summary"] if isinstance(row["summary"], str) else "",
            **{"data-alert": row["alert_id"]},
        )
        for row in firing[:MAX_ALERTS]
    ]
    more = len(firing) - MAX_ALERTS
    tail = [html.Li(t("wall.more", lang, count=more), className="oc-more", **{"data-count": more})] if more > 0 else []
    return [html.Ul(items + tail, className="oc-alerts")], len(firing)


def _banner(refresh: Refresh) -> list:
    if not refresh.fresh["incidents"].sources:
        return []
    lang, active = refresh.lang, refresh.rows("wall_incidents")
    majors = sorted((row for row in active if row["banner"] >= 0), key=lambda row: row["banner"])
    return [
        html.Div(
            [
                html.Span("■ " + t("wall.banner", lang), className="oc-banner-kind"),
                *(
                    [html.Span(t("wall.banner_unacked", lang), className="oc-banner-unacked")]
                    if pd.isna(row["acknowledged_at"])
                    else []
                ),
                html.Span(row["title"], className="oc-banner-title"),
                html.Span(
                    [
                        f"{row['incident_id']} · {row['service'] or '–'} · ",
                        t("wall.opened", lang, time=refresh.local(row["opened_at"])),
                        " · ",
                        _age(row["opened_at"], refresh),
                    ],
                    className="oc-banner-meta",
                ),
                _preplan(row["runbook_url"], lang),
            ],
            className="oc-banner-row" + (" oc-banner-new" if pd.isna(row["acknowledged_at"]) else ""),
            **{"data-incident": row["incident_id"]},
        )
        for row in majors
    ]


def _change_items(refresh: Refresh) -> list:
    lang = refresh.lang
    if not refresh.fresh["changes"].sources:
        return [html.Div(refresh.missing("changes"), className="oc-empty")]
    changes, breaches = refresh.rows("wall_changes"), refresh.freeze_breaches()
    running = [row for row in changes if row["running"]]
    frozen = sum(breaches.get(("change", row["change_id"]), {}).get("flagged", False) for row in running)
    if not running:
        now = refresh.now
        upcoming = next(
            (r for r in changes if not r["running"] and r["planned_start"] is not None and r["planned_start"] >= now),
            None,
        )
        return [
            html.Div(t("wall.no_changes", lang), className="oc-empty"),
            *(
                [
                    html.Div(
                        [
                            t(
                                "wall.next_change",
                                lang,
                                title=upcoming["title"],
                                time=refresh.local(upcoming["planned_start"]),
                            ),
                            freeze_parts.flag(breaches.get(("change", upcoming["change_id"])), lang),
                        ],
                        className="oc-next",
                    )
                ]
                if upcoming is not None
                else []
            ),
        ]
    return [
        *(
            [
                html.Div(
                    ["⚠ ", t("freeze.wall_count", lang, count=frozen)],
                    id=ids.WALL_FREEZE_COUNT,
                    className="oc-freeze-strip",
                )
            ]
            if frozen
            else []
        ),
        html.Ul(
            [
                html.Li(
                    [
                        html.Span(t(f"change.{row['type']}", lang), className=f"oc-chg-type oc-chg-{row['type']}"),
                        html.Div(
                            [
                                html.Div(
                                    [
                                        freeze_parts.flag(breaches.get(("change", row["change_id"])), lang),
                                        row["title"],
                                    ],
                                    className="oc-inc-title",
                                ),
                                html.Div(
                                    f"{row['change_id']} · {row['service'] or '–'} · "
                                    + t(
                                        "wall.change_window",
                                        lang,
                                        start=refresh.local(row["actual_start"]),
                                        end=refresh.local(row["planned_end"]),
                                    ),
                                    className="oc-inc-meta",
                                ),
                            ]
                        ),
                    ],
                    className="oc-change",
                    **{"data-change": row["change_id"]},
                )
                for row in running[:MAX_CHANGES]
            ],
            className="oc-changes",
        ),
    ]


def _chaos_items(refresh: Refresh) -> list:
    lang = refresh.lang
    if not refresh.fresh["chaos"].sources:
        return [html.Div(refresh.missing("chaos"), className="oc-empty")]
    runs, breaches = refresh.rows("wall_chaos"), refresh.freeze_breaches()
    if not runs:
        return [html.Div(t("wall.no_chaos", lang), className="oc-empty")]
    return [
        html.Ul(
            [
                html.Li(
                    [
                        html.Span(
                            [
                                html.Span(CHAOS_ICONS[row["status"]], className="oc-icon"),
                                t(f"chaos.{row['status']}", lang),
                            ],
                            className=f"oc-chaos-status oc-chaos-{row['status']}",
                        ),
                        html.Div(
                            [
                                html.Div(
                                    [
                                        freeze_parts.flag(breaches.get(("chaos", row["run_id"])), lang),
                                        row["experiment"],
                                    ],
                                    className="oc-inc-title",
                                ),
                                html.Div(
                                    " · ".join(
                                        [refresh.local(row["started_at"]), row["fault"] or "–"]
                                        + (
                                            [t("wall.recovery", lang, seconds=f"{row['recovery_s']:.0f}")]
                                            if pd.notna(row["recovery_s"])
                                            else []
                                        )
                                    ),
                                    className="oc-inc-meta",
                                ),
                            ]
                        ),
                    ],
                    className="oc-run",
                    **{"data-run": row["run_id"]},
                )
                for row in runs
            ],
            className="oc-runs",
        )
    ]


# ---------------------------------------------------------------- key figures and header


def _kpi_values(refresh: Refresh) -> dict[str, tuple[str, str]]:
    """Each key figure as (value, sample count) text."""
    lang, now, views = refresh.lang, refresh.now, refresh.views()
    since = kpis.start_of_day(now, refresh.settings.display_tz)
    events = kpis.figures(views["kpi_events"], now)
    figures = {
        "kpi.availability": kpis.availability_of(views["request_totals"], since),
        **{f"kpi.{name}": events[name] for name in kpis.FIGURES},
    }
    out = {}
    for name, (value, count) in figures.items():
        if value is None:
            text = "–"
        elif isinstance(value, pd.Timedelta):
            unit, amount = wallview.duration_parts(value)
            text = t(f"unit.{unit}", lang, value=f"{amount:.1f}")
        else:
            text = formats.fmt_pct(value, 3 if name == "kpi.availability" else 1)
        known = refresh.fresh[name].sources and not refresh.fresh[name].unknown
        out[name] = (text, t("kpi.count", lang, count=f"{count:,}") if known else "")
    return out


def _panel_class(panel: str, fresh: Freshness) -> str:
    if panel == "feeds" and not (fresh.sources or fresh.configured):
        return (
            "oc-feeds oc-feeds-none"  # no source offers feed_status: the strip is left out, neither stale nor unknown
        )
    base = {
        "status": "oc-status-panel",
        "chains": "oc-chains-panel",
        "incidents": "oc-panel oc-incidents-panel",
        "alerts": "oc-panel oc-alerts-panel",
        "changes": "oc-panel oc-changes-panel",
        "chaos": "oc-panel oc-runs-panel",
        "feeds": "oc-feeds",
    }.get(panel, "oc-kpi" if panel.startswith("kpi.") else "oc-panel")
    return base + (" oc-is-stale" if fresh.is_stale else "") + (" oc-is-unknown" if fresh.unknown else "")


def _stale_label(panel: str, text: str) -> html.Span:
    return html.Span(text, id={"type": ids.STALE_LABEL, "panel": panel}, className="oc-stale-label")


def _session_text(session: dict, lang: str) -> str:
    """The phase, or "Closed: <why>" when a holiday, a half-day or a declared closure closes the market."""
    if not session["reason"]:
        return t(f"session.{session['phase']}", lang)
    if session["reason"] == "holiday":
        name = session["name"]
        why = t(f"holiday.{name}", lang) if name and f"holiday.{name}" in CATALOG else name or t("holiday", lang)
    else:
        why = session["name"] or t(f"closed.{session['reason']}", lang)
    return t("session.closed_because", lang, why=why)


def _markets(lang: str, sessions: dict[str, dict]) -> list:
    return [
        html.Span(
            [
                html.Span(t(f"market.{m}", lang), className="oc-market-name"),
                html.Span(_session_text(s, lang), className=f"oc-session oc-session-{s['phase']}"),
            ],
            className="oc-market",
            **{"data-market": m},
        )
        for m, s in sessions.items()
    ]


def _sessions() -> dict[str, dict]:
    """Each market's session at the app's "now", as the page's store keeps it."""
    app = context.current()
    return {m: asdict(s) for m, s in app.calendar.sessions(app.clock()).items()}


def _feed_chips(refresh: Refresh) -> list:
    """The market strip's chips from the ``wall_markets`` view; none before a source delivered ``feed_status``."""
    return (
        market_strip.chips(refresh.rows("wall_markets", MARKETS), refresh.lang)
        if refresh.fresh["feeds"].sources
        else []
    )


def _kpi_strip(refresh: Refresh) -> html.Div:
    values = _kpi_values(refresh)
    return html.Div(
        [
            html.Section(
                [
                    html.Div(t(name, refresh.lang), className="oc-kpi-label"),
                    html.Div(values[name][0], id={"type": ids.KPI_VALUE, "panel": name}, className="oc-kpi-value"),
                    html.Div(
                        [
                            html.Span(values[name][1], id={"type": ids.KPI_COUNT, "panel": name}),
                            _stale_label(name, refresh.stale_label(name)),
                        ],
                        className="oc-kpi-foot",
                    ),
                ],
                id={"type": ids.PANEL, "panel": name},
                className=_panel_class(name, refresh.fresh[name]),
            )
            for name in KPIS
        ],
        className="oc-kpis",
    )


def _side_panel(refresh: Refresh, panel: str, title, body_id: str, body: list) -> html.Section:
    return html.Section(
        [
            html.Header([html.H2(title), _stale_label(panel, refresh.stale_label(panel))], className="oc-panel-head"),
            html.Div(body, id=body_id, className="oc-panel-body"),
        ],
        id={"type": ids.PANEL, "panel": panel},
        className=_panel_class(panel, refresh.fresh[panel]),
    )


# ---------------------------------------------------------------- page


def _updated(refresh: Refresh) -> html.Span:
    """When the newest data was polled, in the display time zone; the browser follows the versions store."""
    template_text = template("wall.updated", refresh.lang)
    text = (
        template_text.replace("{time}", refresh.local(pd.Timestamp(refresh.as_of), seconds=True))
        if refresh.as_of
        else ""
    )
    return html.Span(
        text,
        id=ids.WALL_UPDATED,
        className="oc-updated",
        **{"data-tz": refresh.settings.display_tz, "data-template": template_text},
    )


def _count_badge(refresh: Refresh, panel: str, count: int, badge_id: str) -> html.Span:
    return html.Span(refresh.count(panel, count), id=badge_id, className="oc-count-badge")


def layout(lang: str | None = None, **_query) -> html.Div:
    """The wall page; ``?lang=zh`` for Chinese, ``?kiosk=1`` and ``?playlist=NAME`` are handled by the shell."""
    refresh = Refresh(pick_lang(lang, context.current().settings.language))
    lang, settings = refresh.lang, refresh.settings
    evaluated = refresh.evaluated()
    chain_layout = refresh.structure()
    model = _full_model(refresh)
    incidents, incident_count = _incident_items(refresh)
    alerts, alert_count = _alert_items(refresh)
    sessions = _sessions()
    keys = {
        "panels": {p: refresh.version_key(p) for p in PANELS},
        "stale": {p: refresh.stale_label(p) for p in PANELS},
        "digests": {"alarm": model["alarm"]},
        "structure": refresh.model()[wallmodel.STRUCTURE][1],
        "spark_ms": _last_spark_ms(model, None),
    }
    return html.Div(
        [
            dcc.Store(id=ids.WALL_LANG, data=lang),
            dcc.Store(id=ids.WALL_MODEL, data=model),
            dcc.Store(id=ids.WALL_KEYS, data=keys),
            dcc.Store(id=ids.WALL_SESSIONS, data=sessions),
            dcc.Store(id=ids.WALL_FEEDS_SHOWN, data=_digest(_feed_chips(refresh))),
            html.Header(
                [
                    html.Div(
                        [html.H1(settings.center_name, className="oc-wall-title"), duty.wall_block(lang)],
                        className="oc-wall-brand",
                    ),
                    html.Div(
                        html.Div(id=ids.WALL_STATUS, className="oc-wall-status"),
                        id={"type": ids.PANEL, "panel": "status"},
                        className=_panel_class("status", refresh.fresh["status"]),
                    ),
                    html.Div(_markets(lang, sessions), id=ids.WALL_MARKETS, className="oc-markets"),
                    _updated(refresh),
                    html.Span(className="oc-clock oc-wall-clock", **{"data-tz": settings.display_tz, "data-label": ""}),
                ],
                className="oc-wall-head",
            ),
            html.Div(_banner(refresh), id=ids.WALL_BANNER, className="oc-banner", role="alert"),
            html.Div(_site_banner(refresh), id=ids.WALL_SITES, className="oc-banner", role="alert"),
            _kpi_strip(refresh),
            html.Div(
                [
                    html.Section(
                        [
                            _stale_label("chains", refresh.stale_label("chains")),
                            html.Div(
                                _chain_sections(
                                    chain_layout, evaluated, lang, settings.health["amber_at"], refresh.offered
                                ),
                                id=ids.WALL_CHAINS,
                                className="oc-chains",
                            ),
                        ],
                        id={"type": ids.PANEL, "panel": "chains"},
                        className=_panel_class("chains", refresh.fresh["chains"]),
                    ),
                    html.Div(
                        [
                            html.Section(
                                [
                                    html.Div(_feed_chips(refresh), id=ids.WALL_FEEDS, className="oc-feed-chips"),
                                    _stale_label("feeds", refresh.stale_label("feeds")),
                                ],
                                id={"type": ids.PANEL, "panel": "feeds"},
                                className=_panel_class("feeds", refresh.fresh["feeds"]),
                            ),
                            _side_panel(
                                refresh,
                                "alerts",
                                [
                                    t("wall.alerts_firing", lang),
                                    " ",
                                    _count_badge(refresh, "alerts", alert_count, ids.WALL_ALERT_COUNT),
                                ],
                                ids.WALL_ALERTS,
                                alerts,
                            ),
                            _side_panel(
                                refresh,
                                "incidents",
                                [
                                    t("wall.incidents", lang),
                                    " ",
                                    _count_badge(refresh, "incidents", incident_count, ids.WALL_INCIDENT_COUNT),
                                ],
                                ids.WALL_INCIDENTS,
                                incidents,
                            ),
                            _side_panel(
                                refresh, "changes", t("wall.changes", lang), ids.WALL_CHANGES, _change_items(refresh)
                            ),
                            _side_panel(refresh, "chaos", t("wall.chaos", lang), ids.WALL_CHAOS, _chaos_items(refresh)),
                        ],
                        className="oc-side",
                    ),
                ],
                className="oc-wall-grid",
            ),
        ],
        className="oc-wall",
        **{f"data-age-{unit}": template(f"wall.age_{unit}", lang) for unit in ("m", "h", "d")},
        **{"data-more": template("wall.more", lang)},
    )


WILDCARDS = ("kpi_values", "kpi_counts", "panel_classes", "stale_labels")
OUTPUTS = (
    "model",
    "chains",
    "sites",
    "alerts",
    "alert_count",
    "incidents",
    "incident_count",
    "banner",
    "changes",
    "chaos",
    "kpi_values",
    "kpi_counts",
    "panel_classes",
    "stale_labels",
)
COUNTS = {"alert_count": "alerts", "incident_count": "incidents"}  # count output -> its panel
LISTS = {"alerts": _alert_items, "incidents": _incident_items}  # panel -> (items, count)


def _wildcard(position: int) -> list[dict]:
    """The ids matched by the pattern-matching output at ``position`` of the running callback."""
    return [o["id"] for o in ctx.outputs_list[position]]


def _redraw_tiles(refresh: Refresh, keys: dict, out: dict) -> None:
    """The tile model (whole when the chains' structure changed, else a Patch of its changed parts and the
    sparklines' new points) and the site banner."""
    structure = refresh.model()[wallmodel.STRUCTURE][1]
    if structure != keys["structure"]:  # chains or services came or went: draw them anew
        keys["structure"] = structure
        out["chains"] = _chain_sections(
            refresh.structure(),
            refresh.evaluated(),
            refresh.lang,
            refresh.settings.health["amber_at"],
            refresh.offered,
        )
        model = out["model"] = _full_model(refresh)
    else:
        after = keys["spark_ms"]
        build = lambda: wallview.spark_points(refresh.views()["spark"], after)  # noqa: E731
        model = {"spark": refresh.cached("spark", build, *TILES, extra=after, per_language=False)}
        patch = out["model"] = Patch()
        patch["spark"] = model["spark"]
        for part, (value, digest) in _tile_parts(refresh).items():
            if digest != keys["digests"].get(part):
                patch[part] = value
                keys["digests"][part] = digest
    keys["spark_ms"] = _last_spark_ms(model, keys["spark_ms"])
    banner, digest = refresh.cached("sites", lambda: _with_digest(_site_banner(refresh)), "chains")
    if digest != keys["digests"].get("sites"):
        keys["digests"]["sites"] = digest
        out["sites"] = banner


def _model_part(out: dict, part: str, value) -> None:
    """Set one part of the tile model in this answer, whether it sends the whole model or a Patch."""
    out["model"] = out.get("model") or Patch()
    out["model"][part] = value


def refresh_wall(versions: dict | None, keys: dict, lang: str):
    """Redraw what changed since ``keys``: a Patch of the tile model, changed lists, stale marks."""
    refresh = Refresh(lang, (versions or {}).get("frames"))
    keys = {
        **keys,
        "panels": dict(keys["panels"]),
        "stale": dict(keys["stale"]),
        "digests": dict(keys["digests"]),
        "spark_ms": wallview.sent_ms(keys.get("spark_ms")),
    }
    out: dict = {}
    changed = set()
    for panel in PANELS:
        key = refresh.version_key(panel)
        # a panel whose sources are gone (a restart, a failing source) keeps what it shows
        if key is not None and key != keys["panels"].get(panel):
            changed.add(panel)
            keys["panels"][panel] = key

    if changed & set(TILES):
        _redraw_tiles(refresh, keys, out)
    if "incidents" in changed and not isinstance(out.get("model"), dict):
        alarm = _alarm(refresh)
        if alarm != keys["digests"].get("alarm"):
            keys["digests"]["alarm"] = alarm
            _model_part(out, "alarm", alarm)

    def redraw(panel: str, build) -> None:
        if panel in changed:
            values, digest = refresh.cached(panel, lambda: _with_digest(build()), panel, per_minute=True)
            if digest != keys["digests"].get(panel):
                keys["digests"][panel] = digest
                out.update(values)

    redraw("alerts", lambda: dict(zip(("alerts", "alert_count"), _alert_items(refresh))))
    redraw(
        "incidents",
        lambda: dict(zip(("incidents", "incident_count"), _incident_items(refresh)), banner=_banner(refresh)),
    )
    redraw("changes", lambda: {"changes": _change_items(refresh)})
    redraw("chaos", lambda: {"chaos": _chaos_items(refresh)})
    if changed & set(KPIS):
        values, digest = refresh.cached("kpis", lambda: _with_digest(_kpi_values(refresh)), *KPIS, per_minute=True)
        if digest != keys["digests"].get("kpis"):
            keys["digests"]["kpis"] = digest
            out["kpi_values"] = [values[i["panel"]][0] for i in _wildcard(OUTPUTS.index("kpi_values"))]
            out["kpi_counts"] = [values[i["panel"]][1] for i in _wildcard(OUTPUTS.index("kpi_counts"))]

    labels = {p: refresh.stale_label(p) for p in PANELS}
    if labels != keys["stale"]:  # a source failed, recovered or fell behind: marks, counts and the header follow
        keys["stale"] = labels
        out["panel_classes"] = [
            _panel_class(i["panel"], refresh.fresh[i["panel"]]) for i in _wildcard(OUTPUTS.index("panel_classes"))
        ]
        out["stale_labels"] = [labels[i["panel"]] for i in _wildcard(OUTPUTS.index("stale_labels"))]
        for name, panel in COUNTS.items():
            if name not in out:
                out[name] = refresh.cached(
                    f"{panel}.count", lambda panel=panel: LISTS[panel](refresh)[1], panel, per_minute=True
                )
        _model_part(out, "unknown", refresh.header_unknown())
    for name, panel in COUNTS.items():
        if isinstance(out.get(name), int):
            out[name] = refresh.count(panel, out[name])

    if not out:
        raise dash.exceptions.PreventUpdate
    unchanged = [
        dash.no_update if name not in WILDCARDS else [dash.no_update] * len(_wildcard(i))
        for i, name in enumerate(OUTPUTS)
    ]
    return [out.get(name, unchanged[i]) for i, name in enumerate(OUTPUTS)] + [keys]


def refresh_markets(_tick, shown: dict | None, lang: str):
    """The market sessions change a few times a day: redraw only then."""
    sessions = _sessions()
    if sessions == shown:
        raise dash.exceptions.PreventUpdate
    return _markets(lang, sessions), sessions


def refresh_feeds(versions: dict | None, shown: str | None, lang: str):
    """Redraw the market strip when its chips changed: the poller judged the feeds, this only formats them."""
    refresh = Refresh(lang, (versions or {}).get("frames"))
    chips, digest = refresh.cached("feeds", lambda: _with_digest(_feed_chips(refresh)), "feeds")
    if digest == shown:
        raise dash.exceptions.PreventUpdate
    return chips, digest


def register(app: dash.Dash) -> None:
    """Register the page, its refresh callback and the browser-side tile drawing on ``app``."""
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.wall"))
    app.callback(
        Output(ids.WALL_MODEL, "data"),
        Output(ids.WALL_CHAINS, "children"),
        Output(ids.WALL_SITES, "children"),
        Output(ids.WALL_ALERTS, "children"),
        Output(ids.WALL_ALERT_COUNT, "children"),
        Output(ids.WALL_INCIDENTS, "children"),
        Output(ids.WALL_INCIDENT_COUNT, "children"),
        Output(ids.WALL_BANNER, "children"),
        Output(ids.WALL_CHANGES, "children"),
        Output(ids.WALL_CHAOS, "children"),
        Output({"type": ids.KPI_VALUE, "panel": ALL}, "children"),
        Output({"type": ids.KPI_COUNT, "panel": ALL}, "children"),
        Output({"type": ids.PANEL, "panel": ALL}, "className"),
        Output({"type": ids.STALE_LABEL, "panel": ALL}, "children"),
        Output(ids.WALL_KEYS, "data"),
        Input(ids.VERSIONS, "data"),
        State(ids.WALL_KEYS, "data"),
        State(ids.WALL_LANG, "data"),
        prevent_initial_call=True,
    )(refresh_wall)
    app.callback(
        Output(ids.WALL_MARKETS, "children"),
        Output(ids.WALL_SESSIONS, "data"),
        Input(ids.TICK, "n_intervals"),
        State(ids.WALL_SESSIONS, "data"),
        State(ids.WALL_LANG, "data"),
        prevent_initial_call=True,
    )(refresh_markets)
    app.callback(
        Output(ids.WALL_FEEDS, "children"),
        Output(ids.WALL_FEEDS_SHOWN, "data"),
        Input(ids.VERSIONS, "data"),
        State(ids.WALL_FEEDS_SHOWN, "data"),
        State(ids.WALL_LANG, "data"),
        prevent_initial_call=True,
    )(refresh_feeds)
    duty.register_wall(app, ids.WALL_LANG)
    app.clientside_callback(
        ClientsideFunction("opscenter", "drawTiles"),
        Output(ids.WALL_STATUS, "children"),
        Input(ids.WALL_MODEL, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("opscenter", "wallUpdated"),
        Output(ids.WALL_UPDATED, "children"),
        Input(ids.VERSIONS, "data"),
        prevent_initial_call=True,
    )
