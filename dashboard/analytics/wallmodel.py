"""The wall's tile model in each language, as the browser receives it, with each part's digest.

Per language: the chains as drawn (``structure``: id, name, services; its digest tells a worker whether to
draw the chains anew) and the services' display names (``names``), neither sent as they are, and what the open
incidents say (``alarm``: ``wallview.incident_status``, sent on its own); per tile its
status, figures and reasons in words (``rows``), per chain its status and why (``chains``), the header's
status and text (``header``), the tiles' error-log rates (``logs``), the chains' site shares (``sites``) and
budget badges (``budgets``). The poller computes it once per derivation into the small ``wall_model`` view (a
row per language and part: the part as JSON and its digest), so a web worker sends the parts whose digest
the browser does not hold, as they are.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from dashboard import formats
from dashboard.analytics import rollup, sites, slo, wallview
from dashboard.i18n import t

PARTS = ("rows", "chains", "header", "logs", "sites", "budgets")  # the parts sent to the browser
STRUCTURE, NAMES, ALARM = "structure", "names", "alarm"  # the parts a worker draws the page with


def reason_text(reason: rollup.Reason, lang: str) -> str:
    """A roll-up reason in ``lang``: the wall's and the chain page's words."""
    values = reason.params()
    if "metric" in values:
        values["what"] = " ".join(filter(None, (values["instance"], t(f"metric.{values['metric']}", lang))))
    return t(f"reason.{reason.kind}", lang, **values)


def budgets(slo_status: pd.DataFrame, layout: list[dict], lang: str) -> list[list[str]]:
    """Each chain's budget badge, in layout order, from ``slo_status``: its status (``slo.badges``), "budget
    72%" (empty without session events) and its alert, which names its tooltip."""
    found = slo.badges(slo_status)
    badges = []
    for chain in layout:
        colour, left, alert = found.get(chain["chain"], ("nodata", None, "none"))
        shown = "" if left is None else t("slo.exhausted", lang) if left <= 0 else formats.fmt_pct(left, 0)
        badges.append([colour, t("slo.badge", lang, left=shown) if shown else "", alert])
    return badges


def _chain(status: str, worst: list, names: dict[str, str], lang: str) -> list[str]:
    """A chain's status and why: its first worst step's name and first reason, and how many more steps are
    that bad."""
    if not worst:
        return [status, ""]
    service, reason = worst[0]
    more = f" · +{len(worst) - 1}" if len(worst) > 1 else ""
    why = t("wall.chain_reason", lang, name=names.get(service, service), reason=reason_text(reason, lang))
    return [status, why + more]


def parts(
    layout: list[dict],
    names: dict[str, str],
    rolled: pd.DataFrame,
    tiles: pd.DataFrame,
    rolled_chains: list[dict],
    header: dict,
    chain_sites: pd.DataFrame,
    slo_status: pd.DataFrame,
    lang: str,
) -> dict:
    """The model in ``lang`` (``layout`` and ``names`` in it) from the roll-up (``rollup.services``,
    ``rollup.chains``, ``rollup.header`` with the incidents' ``alarm``), the tiles' figures
    (``wallview.tile_figures``), the chains' site shares (``sites.chain_sites``) and ``slo_status``."""
    first = rolled.drop_duplicates("service")
    reasons = {
        service: [reason_text(r, lang) for r in found]
        for service, found in zip(first["service"].tolist(), first["reasons"].tolist())
        if found
    }
    key = "wall.attention" if header["attention"] else "wall.all_healthy"
    return {
        STRUCTURE: layout,
        NAMES: names,
        ALARM: header["alarm"],
        "rows": wallview.tile_rows(tiles, reasons),
        "chains": [_chain(c["status"], c["worst"], names, lang) for c in rolled_chains],
        "header": {
            "status": header["status"],
            "text": t(key, lang, count=header["attention"], total=header["total"]),
        },
        "logs": tiles["logs"].tolist(),
        "sites": sites.wall_sites(layout, chain_sites),
        "budgets": budgets(slo_status, layout, lang),
    }


def digest(text: str) -> str:
    """A short digest of a part's JSON."""
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def frame(models: dict[str, dict]) -> pd.DataFrame:
    """The ``wall_model`` view of the ``parts`` per language: lang, part, value (JSON), digest."""
    rows = []
    for lang, model in models.items():
        for part, value in model.items():
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            rows.append((lang, part, text, digest(text)))
    return pd.DataFrame(rows, columns=["lang", "part", "value", "digest"])


def in_language(wall_model: pd.DataFrame, lang: str) -> dict[str, tuple[str, str]]:
    """Each part of the ``wall_model`` view in ``lang``: its JSON and digest."""
    columns = (wall_model[c].tolist() for c in ("lang", "part", "value", "digest"))
    return {part: (value, found) for language, part, value, found in zip(*columns) if language == lang}
