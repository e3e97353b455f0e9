"""/preplans: the library of emergency pre-plans, for the duty manager preparing a shift and the auditor.

The list gives each pre-plan's services or scenario, the version in force and the others, its steps and expected
minutes, its last drill and last use; beside it, the services of the estate that no pre-plan names, tier 1 first
and flagged. ``?plan=<id>`` (and ``&version=<n>``) opens one pre-plan below the list: its steps in order with
owner, minutes and escalation, and what changed from the version before. The overview is computed once per frame
versions and minute by each worker (``preplan_overview`` and one grouped read of the checklist ticks): the versions
of the sources delivering the frames it reads, so another source's poll does not read the ticks again. While the
history database does not answer, the library still shows, its last uses marked unknown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

import dash
import pandas as pd
import sqlalchemy as sa
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.command import checklist, preplan_overview
from dashboard.command.preplans import Library, Preplan
from dashboard.i18n import pick_lang, t
from dashboard.security import urlinput
from layouts.components.preplan_links import PATH, href
from layouts.components.titles import page_title

TIME_FORMAT = "%Y-%m-%d %H:%M"
READS = frozenset({"services", "chaos_runs"})  # the frames the overview reads

log = logging.getLogger("opscenter.pages.preplans")


@dataclass(frozen=True)
class Overview:
    """What the page shows of the library and the estate, shared by its viewers."""

    plans: pd.DataFrame  # preplan_overview.plans
    uncovered: pd.DataFrame  # preplan_overview.uncovered
    services: int  # the services of the estate
    uses_read: bool  # False: the history database did not answer, the last uses are unknown


def _last_uses() -> pd.DataFrame | None:
    """``checklist.last_uses``; None while the history database does not answer."""
    try:
        return checklist.last_uses(context.current().history)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("pre-plans' last uses unread, shown as unknown: %s", exc)
        return None


def overview(versions: dict | None = None) -> Overview:
    """The overview at the frame ``versions`` (now's when None), computed once per versions of the frames it reads
    and minute."""
    ctx = context.current()
    versions = ctx.store.versions() if versions is None else versions
    now = pd.Timestamp(ctx.clock())

    def compute() -> Overview:
        library, services = ctx.preplans, ctx.store.frame("services", versions)
        drilled = preplan_overview.drills(ctx.store.frame("chaos_runs", versions))
        uses = _last_uses()
        plans = preplan_overview.plans(
            library, now, drilled, pd.DataFrame(columns=checklist.USE_COLUMNS) if uses is None else uses
        )
        uncovered = preplan_overview.uncovered(services, library)
        return Overview(plans, uncovered, services["service"].nunique(), uses is not None)

    return ctx.memo.get("preplans.overview", (ctx.versions_of(versions, READS), now.floor("min")), compute)


def _local(at, tz: str) -> str:
    return pd.Timestamp(at).tz_convert(tz).strftime(TIME_FORMAT)


def _versions_cell(row, lang: str) -> list:
    parts = [html.Strong(f"v{row.in_force}")]
    if not row.effective_yet:
        parts.append(html.Div(t("preplans.not_yet", lang), className="oc-preplans-upcoming"))
    if row.older:
        parts.append(
            html.Div(t("preplans.older", lang, versions=", ".join(f"v{v}" for v in row.older)), className="oc-muted")
        )
    if row.upcoming:
        upcoming = ", ".join(f"v{v}" for v in row.upcoming)
        parts.append(html.Div(t("preplans.upcoming", lang, versions=upcoming), className="oc-preplans-upcoming"))
    return parts


def _applies(row, lang: str) -> list:
    links = [dcc.Link(s, href=f"/service/{quote(s)}") for s in row.services]
    parts = [html.Div([p for link in links for p in (link, ", ")][:-1])] if links else []
    if isinstance(row.scenario, str):
        parts.append(html.Div(t("preplans.scenario", lang, scenario=row.scenario), className="oc-muted"))
    return parts


def _drill_cell(row, tz: str, lang: str) -> list:
    if pd.isna(row.last_drill):
        return [html.Span(t("preplans.never", lang), className="oc-preplans-never")]
    return [_local(row.last_drill, tz), html.Div(t("preplans.drills", lang, count=row.drills), className="oc-muted")]


def _use_cell(row, read: bool, tz: str, lang: str) -> list:
    if not read:
        return [html.Span(t("preplans.use_unknown", lang), className="oc-preplans-unknown")]
    if pd.isna(row.last_use):
        return [html.Span(t("preplans.never", lang), className="oc-muted")]
    incident = dcc.Link(row.use_incident, href=f"/incidents/{quote(row.use_incident)}")
    return [_local(row.last_use, tz), html.Div([incident, f" · v{row.use_version}"], className="oc-muted")]


def list_section(
    seen: Overview, library: Library, chosen: str | None, query_lang: str | None, tz: str, lang: str
) -> html.Section:
    """The library: a row per pre-plan, the chosen one marked."""
    keys = ("plan", "applies", "version", "steps", "minutes", "drill", "use")
    head = html.Tr(
        [html.Th(t(f"preplans.col.{k}", lang) + (f" ({tz})" if k in ("drill", "use") else "")) for k in keys]
    )
    rows = [
        html.Tr(
            [
                html.Td(
                    [
                        dcc.Link(
                            library.get(r.preplan_id, r.in_force).title_in(lang),
                            href=href(r.preplan_id, lang=query_lang),
                            className="oc-preplans-open",
                        ),
                        html.Div(r.preplan_id, className="oc-muted"),
                    ]
                ),
                html.Td(_applies(r, lang)),
                html.Td(_versions_cell(r, lang)),
                html.Td(str(r.steps), className="oc-num"),
                html.Td(t("preplan.expected", lang, minutes=r.minutes), className="oc-num"),
                html.Td(_drill_cell(r, tz, lang)),
                html.Td(_use_cell(r, seen.uses_read, tz, lang)),
            ],
            className="oc-preplans-chosen" if r.preplan_id == chosen else None,
            **{"data-preplan": r.preplan_id},
        )
        for r in seen.plans.itertuples(index=False)
    ]
    content = (
        html.Table([html.Thead(head), html.Tbody(rows)], className="oc-preplans-table")
        if rows
        else html.P(t("preplans.empty", lang), className="oc-empty")
    )
    errors = (
        [
            html.P(
                t("preplans.errors", lang, count=len(library.errors), first=library.errors[0]),
                className="oc-preplans-errors",
            )
        ]
        if library.errors
        else []
    )
    return html.Section(
        [html.H2(t("preplans.library", lang)), *errors, content], id=ids.PREPLANS_LIST, className="oc-panel"
    )


def uncovered_section(uncovered: pd.DataFrame, lang: str) -> html.Section:
    """The services no pre-plan names, tier 1 first and flagged."""
    if uncovered.empty:
        content = html.P(t("preplans.all_covered", lang), className="oc-empty")
    else:
        head = html.Tr([html.Th(t(f"preplans.col.{k}", lang)) for k in ("service", "tier", "owner")])
        rows = [
            html.Tr(
                [
                    html.Td(
                        [
                            dcc.Link(r.service, href=f"/service/{quote(r.service)}"),
                            html.Div(r.display_name, className="oc-muted"),
                        ]
                    ),
                    html.Td(
                        html.Span(t("preplans.tier1_flag", lang), className="oc-preplans-flag")
                        if r.tier == 1
                        else f"T{r.tier}"
                    ),
                    html.Td(r.owner if isinstance(r.owner, str) else "–"),
                ],
                className="oc-preplans-tier1" if r.tier == 1 else None,
                **{"data-service": r.service, "data-tier": str(r.tier)},
            )
            for r in uncovered.itertuples(index=False)
        ]
        content = html.Table([html.Thead(head), html.Tbody(rows)], className="oc-preplans-table")
    return html.Section(
        [html.H2(t("preplans.uncovered", lang, count=len(uncovered))), content],
        id=ids.PREPLANS_UNCOVERED,
        className="oc-panel",
    )


def _status(plan: Preplan, in_force: Preplan | None, lang: str) -> str:
    """Whether ``plan`` is the version in force (None: none is yet), one before it or one not yet in force."""
    shown, current = plan.version, in_force.version if in_force else None
    key = "not_yet" if current is None or shown > current else "in_force" if shown == current else "superseded"
    day = (
        t("preplans.effective", lang, day=plan.effective.isoformat()) if plan.effective else t("preplans.always", lang)
    )
    return f"{t(f'preplans.{key}', lang)} · {day}"


def _step(step, number: int, by_minutes: float, change, lang: str) -> html.Li:
    escalation = step.escalation_in(lang)
    badge = (
        [
            html.Span(
                t(f"preplans.step_{'new' if change.kind == 'added' else 'changed'}", lang),
                className="oc-preplans-badge",
            )
        ]
        if change
        else []
    )
    return html.Li(
        [
            html.Div([step.text_in(lang), *badge], className="oc-preplan-text"),
            html.Div(
                [
                    html.Span(f"{t('preplan.owner', lang)}: {step.owner}"),
                    html.Span(t("preplan.expected", lang, minutes=step.minutes)),
                    html.Span(t("preplans.by", lang, minutes=by_minutes)),
                ],
                className="oc-preplan-meta",
            ),
            html.Div(t("preplan.escalation", lang, text=escalation), className="oc-preplan-escalation")
            if escalation
            else None,
        ],
        className="oc-preplans-step",
        **{"data-step": str(number)},
    )


def _changes(plan: Preplan, previous: Preplan | None, found, lang: str) -> html.Div:
    if previous is None:
        return html.P(t("preplans.first", lang), className="oc-muted")
    sep = t("preplans.sep", lang)
    lines = []
    if found.services_added:
        lines.append(t("preplans.change.services_added", lang, services=sep.join(found.services_added)))
    if found.services_removed:
        lines.append(t("preplans.change.services_removed", lang, services=sep.join(found.services_removed)))
    if found.scenario_changed:
        lines.append(t("preplans.change.scenario", lang, was=previous.scenario or "–", now=plan.scenario or "–"))
    for change in found.steps:
        fields = sep.join(t(f"preplans.field.{f}", lang) for f in change.fields)
        text = previous.steps[change.was - 1].text_in(lang) if change.was else ""
        kind = "moved" if change.kind == "changed" and change.step != change.was else change.kind
        lines.append(
            t(
                f"preplans.change.{kind}",
                lang,
                step=change.step,
                was=change.was,
                fields=fields,
                text=text,
                version=previous.version,
            )
        )
    if not lines:
        return html.P(t("preplans.unchanged", lang, version=previous.version), className="oc-muted")
    return html.Div(
        [html.H3(t("preplans.changes", lang, version=previous.version)), html.Ul([html.Li(line) for line in lines])],
        className="oc-preplans-changes",
    )


def detail_section(
    library: Library, preplan_id: str | None, version: int | None, query_lang: str | None, lang: str
) -> html.Section:
    """The chosen pre-plan in the chosen version (the one in force by default): its steps and changes."""
    ctx = context.current()
    versions = library.versions(preplan_id) if preplan_id else []
    now = pd.Timestamp(ctx.clock())
    in_force = library.in_force(preplan_id, now) if versions else None
    shown = library.version_at(preplan_id, now) if versions else None
    plan = shown if version is None or not versions else library.get(preplan_id, version)
    if not preplan_id:
        content = [html.P(t("preplans.choose", lang), className="oc-empty")]
    elif not versions:
        content = [html.P(t("preplans.unknown", lang, preplan=preplan_id), className="oc-empty")]
    elif plan is None:
        content = [html.P(t("preplans.no_version", lang, preplan=preplan_id, version=version), className="oc-empty")]
    else:
        before = [p for p in versions if p.version < plan.version]
        previous = before[-1] if before else None
        found = preplan_overview.changes(previous, plan) if previous else None
        by_step = {c.step: c for c in found.steps if c.step} if found else {}
        chooser = [
            dcc.Link(
                f"v{p.version}" + (f" · {t('preplans.in_force', lang)}" if p == in_force else ""),
                href=href(p.id, p.version, query_lang),
                className="oc-preplans-version" + (" oc-preplans-version-shown" if p.version == plan.version else ""),
            )
            for p in versions
        ]
        minutes = pd.Series([s.minutes for s in plan.steps]).cumsum()
        services = t("preplans.sep", lang).join(plan.services)
        content = [
            html.H2([plan.title_in(lang), html.Span(f" · {plan.id} · v{plan.version}", className="oc-muted")]),
            html.P(
                [
                    html.Span(_status(plan, in_force, lang), className="oc-preplans-status"),
                    html.Span(f"{t('preplans.services', lang)}: {services}") if services else None,
                    html.Span(t("preplans.scenario", lang, scenario=plan.scenario)) if plan.scenario else None,
                    html.Span(t("preplans.total", lang, steps=len(plan.steps), minutes=minutes.iloc[-1])),
                ],
                className="oc-preplans-facts",
            ),
            html.Div([html.Span(f"{t('preplans.versions', lang)}:"), *chooser], className="oc-preplans-versions"),
            html.Ol(
                [
                    _step(step, n, minutes.iloc[n - 1], by_step.get(n), lang)
                    for n, step in enumerate(plan.steps, start=1)
                ],
                className="oc-preplans-steps",
            ),
            _changes(plan, previous, found, lang),
        ]
    return html.Section(
        content,
        id=ids.PREPLANS_DETAIL,
        className="oc-panel oc-preplan-panel",
        **({"data-preplan": plan.id, "data-version": str(plan.version)} if plan is not None and versions else {}),
    )


def body(page: dict, versions: dict | None = None) -> list:
    """The summary, the library with the chosen pre-plan below it, and the services without a pre-plan."""
    ctx, lang = context.current(), page["lang"]
    library, seen, tz = ctx.preplans, overview(versions), ctx.settings.display_tz
    tier1 = int((seen.uncovered["tier"] == 1).sum())
    summary = t(
        "preplans.summary",
        lang,
        plans=len(seen.plans),
        versions=len(library.plans),
        covered=seen.services - len(seen.uncovered),
        services=seen.services,
    )
    gap = [" · ", html.Span(t("preplans.tier1_gap", lang, count=tier1), className="oc-preplans-flag")] if tier1 else []
    return [
        html.P([summary, *gap], className="oc-preplans-summary"),
        html.Div(
            [
                html.Div(
                    [
                        list_section(seen, library, page["plan"], page["query_lang"], tz, lang),
                        detail_section(library, page["plan"], page["version"], page["query_lang"], lang),
                    ],
                    className="oc-preplans-main",
                ),
                uncovered_section(seen.uncovered, lang),
            ],
            className="oc-preplans-grid",
        ),
    ]


def layout(lang: str | None = None, plan: str | None = None, version: str | None = None, **_query) -> html.Div:
    """The library; ``?plan=<id>`` opens a pre-plan, ``&version=<n>`` one of its versions, ``?lang=zh`` Chinese."""
    resolved = pick_lang(lang, context.current().settings.language)
    try:
        chosen = urlinput.clean("preplan", plan)
        number = urlinput.clean("version", version)
    except urlinput.UrlInputError as exc:
        content = [
            html.P(t("drill.bad_input", resolved, reason=str(exc)), id=ids.PREPLANS_PROBLEM, className="oc-empty")
        ]
    else:
        page = {"lang": resolved, "query_lang": resolved if lang else None, "plan": chosen}
        page["version"] = int(number) if number else None
        content = [dcc.Store(id=ids.PREPLANS_PAGE, data=page), html.Div(body(page), id=ids.PREPLANS_BODY)]
    return html.Div([html.H1(t("preplans.title", resolved)), *content], className="oc-page oc-preplans-page")


def register(app: dash.Dash) -> None:
    """Register the page and its refresh on ``app``."""
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.preplans"))

    @app.callback(
        Output(ids.PREPLANS_BODY, "children"),
        Input(ids.VERSIONS, "data"),
        State(ids.PREPLANS_PAGE, "data"),
        prevent_initial_call=True,
    )
    def refresh(versions, page):
        return body(page, (versions or {}).get("frames"))
