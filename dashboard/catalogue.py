"""The capability catalogue: domains and items read from YAML and validated at start.

The built-in catalogue is ``dashboard/capability_model.yaml``; ``maturity.catalogue`` in the
config names a firm's own file. Problems are reported as ``file:line: key: message``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard import evidence
from dashboard.settings import ConfigError, _Located

DEFAULT_CATALOGUE = Path(__file__).with_name("capability_model.yaml")
LEVELS = (1, 2, 3, 4, 5)
APPLIES_TO = {"all": (1, 2, 3), "tier1": (1,), "tier1-2": (1, 2)}
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MANUAL = "manual"


@dataclass(frozen=True)
class Item:
    """One capability item: what it asks, at which level, for which services, proven how."""

    id: str
    domain: str
    level: int
    title: str
    description: str
    applies_to: str
    rule: dict[str, Any] = field(default_factory=dict)

    @property
    def tiers(self) -> tuple[int, ...]:
        return APPLIES_TO[self.applies_to]

    @property
    def automatic(self) -> bool:
        return bool(self.rule)


@dataclass(frozen=True)
class Catalogue:
    """The domains (key -> name, in file order) and the items."""

    domains: dict[str, str]
    items: tuple[Item, ...]
    path: str

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)


def _rule(doc: _Located, where: tuple, raw) -> dict[str, Any]:
    if raw == MANUAL:
        return {}
    if not isinstance(raw, dict) or "kind" not in raw:
        doc.fail(where, f"expected '{MANUAL}' or a mapping with 'kind'")
    kind = raw["kind"]
    if kind not in evidence.RULES:
        doc.fail(where + ("kind",), f"unknown rule {kind!r}; known: {', '.join(sorted(evidence.RULES))}")
    accepted = evidence.RULES[kind].params
    for key, value in raw.items():
        if key == "kind":
            continue
        if key not in accepted:
            doc.fail(where + (key,), f"rule {kind} takes {', '.join(accepted) or 'no parameters'}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            doc.fail(where + (key,), f"expected a number at least 0, got {value!r}")
    missing = [key for key in accepted if key not in raw and key not in evidence.RULES[kind].defaults]
    if missing:
        doc.fail(where, f"rule {kind} needs {', '.join(missing)}")
    return dict(raw)


def _item(doc: _Located, i: int, raw, domains: dict[str, str], seen: set[str]) -> Item:
    where = ("items", i)
    if not isinstance(raw, dict):
        doc.fail(where, "expected a mapping with id, domain, level, title, description, applies_to and rule")
    known = set(Item.__dataclass_fields__)
    for key in raw:
        if key not in known:
            doc.fail(where + (key,), f"unknown key; expected one of {', '.join(sorted(known))}")
    for key in ("id", "domain", "level", "title", "description", "rule"):
        if key not in raw or raw[key] in (None, ""):
            doc.fail(where, f"missing key {key!r}")
    item_id = str(raw["id"])
    if not ID_PATTERN.match(item_id):
        doc.fail(where + ("id",), "expected letters, digits, '-', '_' or '.' (at most 32)")
    if item_id in seen:
        doc.fail(where + ("id",), f"duplicate item id {item_id!r}")
    seen.add(item_id)
    if raw["domain"] not in domains:
        doc.fail(where + ("domain",), f"unknown domain {raw['domain']!r}; expected one of {', '.join(domains)}")
    if raw["level"] not in LEVELS or isinstance(raw["level"], bool):
        doc.fail(where + ("level",), "expected a level from 1 to 5")
    applies_to = raw.get("applies_to", "all")
    if applies_to not in APPLIES_TO:
        doc.fail(where + ("applies_to",), f"expected one of {', '.join(APPLIES_TO)}")
    return Item(id=item_id, domain=raw["domain"], level=raw["level"], title=str(raw["title"]),
                description=str(raw["description"]), applies_to=applies_to,
                rule=_rule(doc, where + ("rule",), raw["rule"]))


def parse(text: str, path: str = "<catalogue>") -> Catalogue:
    """Parse and validate catalogue text; raise ConfigError naming the line and key."""
    doc = _Located(text, path)
    data = doc.data
    if not isinstance(data, dict):
        doc.fail((), "expected a mapping with 'domains' and 'items'")
    domains = data.get("domains")
    if not isinstance(domains, dict) or not domains:
        doc.fail(("domains",), "expected a mapping of domain key to name")
    items, seen = data.get("items"), set()
    if not isinstance(items, list) or not items:
        doc.fail(("items",), "expected a non-empty list of items")
    parsed = tuple(_item(doc, i, raw, domains, seen) for i, raw in enumerate(items))
    empty = [key for key in domains if not any(item.domain == key for item in parsed)]
    if empty:
        doc.fail(("domains", empty[0]), "domain has no items")
    return Catalogue(domains={str(k): str(v) for k, v in domains.items()}, items=parsed, path=path)


def load(path: str | Path | None = None) -> Catalogue:
    """Load the catalogue at ``path`` (default: the built-in one)."""
    chosen = Path(path or DEFAULT_CATALOGUE)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{chosen}: cannot read the capability catalogue: {exc.strerror}") from None
    return parse(text, str(chosen))
