"""The capability catalogue: domains and items read from YAML and validated at start.

The built-in catalogue is ``dashboard/maturity/capability_model.yaml``; ``maturity.catalogue`` in the
config names a firm's own file. Problems are reported as ``file:line: key: message``.

Text is English, with Chinese beside it where the catalogue gives it: a domain is
``key: Name`` or ``key: {name: Name, name_zh: 名称}``, an item may add ``title_zh`` and
``description_zh``. Text missing in Chinese is shown in English.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard.core.settings import ConfigError, _Located
from dashboard.maturity import evidence
from dashboard.security.urlinput import ITEM_ID

DEFAULT_CATALOGUE = Path(__file__).with_name("capability_model.yaml")
LEVELS = (1, 2, 3, 4, 5)
APPLIES_TO = {"all": (1, 2, 3), "tier1": (1,), "tier1-2": (1, 2)}
ID_PATTERN = ITEM_ID  # what a URL's ?item= may carry, so every item can be linked to
MANUAL = "manual"
DOMAIN_KEYS = ("name", "name_zh")


def _in(lang: str, text: str, text_zh: str) -> str:
    return text_zh if lang == "zh" and text_zh else text


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
    title_zh: str = ""
    description_zh: str = ""

    def title_in(self, lang: str) -> str:
        return _in(lang, self.title, self.title_zh)

    def description_in(self, lang: str) -> str:
        return _in(lang, self.description, self.description_zh)

    @property
    def tiers(self) -> tuple[int, ...]:
        return APPLIES_TO[self.applies_to]

    @property
    def automatic(self) -> bool:
        return bool(self.rule)


@dataclass(frozen=True)
class Catalogue:
    """The domains (key -> name, in file order, and key -> Chinese name) and the items."""

    domains: dict[str, str]
    items: tuple[Item, ...]
    path: str
    domains_zh: dict[str, str] = field(default_factory=dict)

    def domain_names(self, lang: str) -> dict[str, str]:
        """Key -> name in ``lang``, in file order."""
        return {key: _in(lang, name, self.domains_zh.get(key, "")) for key, name in self.domains.items()}

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
    if not ID_PATTERN.fullmatch(item_id):
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
    return Item(
        id=item_id,
        domain=raw["domain"],
        level=raw["level"],
        title=str(raw["title"]),
        description=str(raw["description"]),
        applies_to=applies_to,
        rule=_rule(doc, where + ("rule",), raw["rule"]),
        title_zh=_text(doc, where + ("title_zh",), raw.get("title_zh")),
        description_zh=_text(doc, where + ("description_zh",), raw.get("description_zh")),
    )


def _text(doc: _Located, where: tuple, raw) -> str:
    """An optional translation: absent, or a non-empty string."""
    if raw is None:
        return ""
    if not isinstance(raw, str) or not raw.strip():
        doc.fail(where, "expected non-empty text")
    return raw


def _domains(doc: _Located, raw) -> tuple[dict[str, str], dict[str, str]]:
    """Key -> name and key -> Chinese name, from ``key: Name`` or ``key: {name: ..., name_zh: ...}``."""
    if not isinstance(raw, dict) or not raw:
        doc.fail(("domains",), "expected a mapping of domain key to name")
    names, names_zh = {}, {}
    for key, value in raw.items():
        where = ("domains", key)
        if isinstance(value, dict):
            unknown = [k for k in value if k not in DOMAIN_KEYS]
            if unknown:
                doc.fail(where + (unknown[0],), f"unknown key; expected {' or '.join(DOMAIN_KEYS)}")
            if "name" not in value:
                doc.fail(where, "missing key 'name'")
            names[str(key)] = _text(doc, where + ("name",), value["name"])
            names_zh[str(key)] = _text(doc, where + ("name_zh",), value.get("name_zh"))
        else:
            names[str(key)] = _text(doc, where, value)
    return names, {k: v for k, v in names_zh.items() if v}


def parse(text: str, path: str = "<catalogue>") -> Catalogue:
    """Parse and validate catalogue text; raise ConfigError naming the line and key."""
    doc = _Located(text, path)
    data = doc.data
    if not isinstance(data, dict):
        doc.fail((), "expected a mapping with 'domains' and 'items'")
    domains, domains_zh = _domains(doc, data.get("domains"))
    items, seen = data.get("items"), set()
    if not isinstance(items, list) or not items:
        doc.fail(("items",), "expected a non-empty list of items")
    parsed = tuple(_item(doc, i, raw, domains, seen) for i, raw in enumerate(items))
    empty = [key for key in domains if not any(item.domain == key for item in parsed)]
    if empty:
        doc.fail(("domains", empty[0]), "domain has no items")
    return Catalogue(domains=domains, items=parsed, path=path, domains_zh=domains_zh)


def load(path: str | Path | None = None) -> Catalogue:
    """Load the catalogue at ``path`` (default: the built-in one)."""
    chosen = Path(path or DEFAULT_CATALOGUE)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{chosen}: cannot read the capability catalogue: {exc.strerror}") from None
    return parse(text, str(chosen))
