"""The options every source kind declares: pydantic models, checked when the config loads.

A kind names its model as ``options_model`` on its Source class; the model lists every key
the kind reads, with its type, default and description (the reference in docs/sources.md is
generated from them). Unknown keys are refused. ``Secret`` marks a credential: the config
accepts it only written as ``${ENV_NAME}``. A kind without a model (a plugin) accepts any key.

``python -m datasources.options --write docs/sources.md`` regenerates the reference.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from datasources.transport import DEFAULT_MAX_BYTES

BEGIN, END = "<!-- generated: source options -->", "<!-- end generated -->"
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")  # Prometheus and Loki label names


class SecretMarker:
    """Marks a field whose value is a credential."""


SECRET = SecretMarker()
Secret = Annotated[str | None, Field(repr=False), SECRET]


def _label_name(value: str) -> str:
    if not LABEL_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid label name")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
    return value


def _http_url(value: str) -> str:
    if not re.match(r"https?://[^/?#]", value):
        raise ValueError("must be an http(s) URL such as https://prometheus.example.internal")  # may hold a password
    return value


LabelName = Annotated[str, AfterValidator(_label_name)]
Regex = Annotated[str, AfterValidator(_regex)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
_CHECKED = {_label_name: "label name", _regex: "regular expression", _http_url: "http(s) URL"}


class Strict(BaseModel):
    """A mapping of declared keys: unknown keys are refused, a boolean is never a number, and
    numbers are accepted where text is expected (YAML reads ``name: 42`` as a number)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info) -> Any:
        if isinstance(value, bool) and _is_number(cls.model_fields[info.field_name].annotation):
            raise ValueError(f"expected a number, got {str(value).lower()}")
        return value


class SourceOptions(Strict):
    """Keys of every source."""

    kind: str = Field(description="The source kind (a heading of this page, or a plugin's kind).")
    name: str = Field(
        description="The source's name: lower-case letters, digits, '-', '_' and '.'; unique in the config."
    )
    interval_s: float = Field(30.0, gt=0, description="Seconds between two polls.")
    poll_timeout_s: float | None = Field(
        None,
        gt=0,
        description="Deadline of one whole poll, in seconds "
        "(none: twice `interval_s` or six `timeout_s`, "
        "whichever is longer).",
    )
    max_rows: int | None = Field(
        None, gt=0, description="Most rows accepted in one frame, and in one Prometheus answer (none: 2,000,000)."
    )


class OpenOptions(SourceOptions):
    """The keys of a kind that declares no model (a plugin): any key is accepted."""

    model_config = ConfigDict(extra="allow")


class TransportOptions(SourceOptions):
    """The transport's tuning keys (`datasources/transport.py`), shared by every source that speaks HTTP."""

    timeout_s: float = Field(10.0, gt=0, description="Timeout of one answer, start to end, in seconds.")
    retries: int = Field(2, ge=0, description="Retries of a request after a connection failure, a timeout, 429 or 5xx.")
    backoff_s: float = Field(0.25, ge=0, description="First back-off between retries, in seconds; doubles each retry.")
    max_bytes: int = Field(
        DEFAULT_MAX_BYTES,
        gt=0,
        description="Largest answer accepted, in bytes (counted as it arrives, after decompression).",
    )


class HttpOptions(TransportOptions):
    """Keys of every HTTP source: the transport (`datasources/transport.py`). Auth is one of
    `bearer_token`, `username` with `password` (or `token`), or a bare `token`."""

    url: HttpUrl = Field(description="Base URL of the source's API.")
    bearer_token: Secret = Field(None, description="Sent as `Authorization: Bearer ...`.")
    token: Secret = Field(
        None,
        description="With `username`: the basic-auth password; alone: sent with "
        "the kind's token scheme (Bearer unless the kind says otherwise).",
    )
    username: str | None = Field(None, description="User name for basic auth.")
    password: Secret = Field(None, description="Password for basic auth.")
    tls_verify: bool = Field(True, description="Verify the server's TLS certificate.")

    def transport(self) -> dict[str, Any]:
        """The transport's keys for ``HttpClient.from_options`` (unset ones left to its defaults)."""
        return self.model_dump(include=set(HttpOptions.model_fields), exclude_none=True)


# ---------------------------------------------------------------- errors


def _is_number(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_number(arg) for arg in get_args(annotation))
    return annotation in (int, float)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _keys_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys known at ``loc`` inside ``model`` (for a "did you mean")."""
    models = [model]
    for part in loc:
        if isinstance(part, str):
            models = [
                inner for m in models if part in m.model_fields for inner in _models_in(m.model_fields[part].annotation)
            ]
    return [key for m in models for key in m.model_fields]


def _shown(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (bool, type(None))) else repr(value)


def _did_you_mean(key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def problems(model: type[BaseModel], exc: ValidationError) -> list[tuple[tuple, str]]:
    """Each error as (key path, message), e.g. (('bearer_tokn',), "unknown option; did you mean 'bearer_token'?")."""
    found = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if part != "[key]")
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown option" + _did_you_mean(loc[-1], _keys_at(model, loc[:-1]))
        elif kind == "literal_error" and error["loc"][-1] == "[key]":
            expected = re.findall(r"'([^']*)'", error["ctx"]["expected"])
            message = "unknown key" + (_did_you_mean(loc[-1], expected) or f"; expected {error['ctx']['expected']}")
        elif kind == "missing":
            message = "required option is missing"
        elif kind == "value_error":
            message = str(error["ctx"]["error"])
        elif kind in ("float_parsing", "float_type", "int_parsing", "int_type"):
            message = f"expected a number, got {_shown(error['input'])}"
        elif kind == "int_from_float":
            message = f"expected a whole number, got {_shown(error['input'])}"
        elif kind in ("bool_parsing", "bool_type"):
            message = f"expected true or false, got {_shown(error['input'])}"
        else:
            message = error["msg"].replace("Input should be", "must be", 1)
        found.append((loc, message))
    return found


def secret_keys(model: type[BaseModel]) -> list[str]:
    """The keys of ``model`` that hold credentials."""
    return [key for key, info in model.model_fields.items() if SECRET in info.metadata]


# ---------------------------------------------------------------- the reference


def _type_name(annotation: Any, metadata: list = ()) -> str:
    named = [_CHECKED[m.func] for m in metadata if getattr(m, "func", None) in _CHECKED]
    origin, args = get_origin(annotation), get_args(annotation)
    if named:
        return named[0]
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in args if arg is not type(None))
    if origin is Literal:
        return " or ".join(f"`{arg}`" for arg in args) if len(args) <= 2 else f"one of {_choices(args)}"
    if origin is Annotated:
        return _type_name(args[0], args[1:])
    if origin in (list, tuple):
        inner = get_args(args[0])
        return f"list of: {_choices(inner)}" if get_origin(args[0]) is Literal else f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping (keys below)"
    return {str: "text", int: "integer", float: "number", bool: "true or false"}.get(annotation, str(annotation))


def _choices(values: tuple) -> str:
    return ", ".join(f"`{value}`" for value in values)


def _every_choice(info) -> bool:
    """Whether the default lists every value a ``list[Literal[...]]`` field allows."""
    inner = get_args(info.annotation)
    return (
        get_origin(info.annotation) is list
        and get_origin(inner[0]) is Literal
        and list(info.get_default(call_default_factory=True)) == list(get_args(inner[0]))
    )


def _default(info) -> str:
    if info.is_required():
        return "required"
    if isinstance(info.json_schema_extra, dict) and "default_text" in info.json_schema_extra:
        return str(info.json_schema_extra["default_text"])  # a default too long for the table, told in words
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if _every_choice(info):
        return "all"
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, list):
        value = [v.model_dump(exclude_defaults=True) if isinstance(v, BaseModel) else v for v in value]
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    if isinstance(value, float):
        return f"{value:g}"
    return f"`{json.dumps(value)}`" if isinstance(value, (list, dict, bool)) else str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _own_first(model: type[BaseModel]) -> list[str]:
    """The model's keys, those it declares itself first, then its bases' (nearest first)."""
    declared = [key for cls in model.__mro__ for key in getattr(cls, "__annotations__", {})]
    return list(dict.fromkeys(key for key in declared if key in model.model_fields))


def _rows(model: type[BaseModel], skip: set[str], prefix: str = "") -> list[str]:
    rows = []
    for key in _own_first(model):
        info = model.model_fields[key]
        if key in skip:
            continue
        kind = "secret, as `${ENV_NAME}`" if SECRET in info.metadata else _type_name(info.annotation, info.metadata)
        rows.append(f"| `{prefix}{key}` | {_cell(kind)} | {_cell(_default(info))} | {_cell(info.description or '')} |")
        for inner in _models_in(info.annotation):
            many = get_origin(info.annotation) is list or any(get_origin(a) is list for a in get_args(info.annotation))
            rows += _rows(inner, set(), f"{prefix}{key}{'[]' if many else ''}.")
    return rows


def _table(model: type[BaseModel], skip: set[str]) -> list[str]:
    return ["| key | type | default | description |", "| --- | --- | --- | --- |", *_rows(model, skip)]


def _summary(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").strip().split())


def reference(kinds: dict[str, type]) -> str:
    """The markdown reference of the kinds' options: shared keys first, then a table per kind."""
    base, http = set(SourceOptions.model_fields), set(HttpOptions.model_fields)
    lines = [
        BEGIN,
        "",
        "## Keys of every source",
        "",
        *_table(SourceOptions, set()),
        "",
        "## Keys of every HTTP source",
        "",
        _summary(HttpOptions),
        "",
        *_table(HttpOptions, base),
        "",
    ]
    for kind, cls in kinds.items():
        model = cls.options_model
        shared = http if issubclass(model, HttpOptions) else base
        lines += [f"## `{kind}`", "", _summary(model), ""]
        if issubclass(model, HttpOptions):
            lines += ["Also the keys of every HTTP source.", ""]
        lines += [*_table(model, shared), ""]
    return "\n".join(lines + [END])


def with_reference(document: str, generated: str) -> str:
    """``document`` with the text between the markers replaced by ``generated`` (appended when absent)."""
    if BEGIN in document and END in document:
        head, _, rest = document.partition(BEGIN)
        return head + generated + rest.partition(END)[2]
    return document.rstrip("\n") + "\n\n" + generated + "\n"


def main(argv: list[str]) -> int:
    """``--markdown`` prints the reference; ``--write FILE`` puts it into FILE between the markers."""
    from pathlib import Path

    from datasources.registry import builtins

    generated = reference(builtins())
    if argv[:1] == ["--markdown"]:
        print(generated)
        return 0
    if argv[:1] == ["--write"] and len(argv) == 2:
        path = Path(argv[1])
        document = path.read_text(encoding="utf-8") if path.exists() else "# Sources\n"
        path.write_text(with_reference(document, generated), encoding="utf-8")
        return 0
    print("usage: python -m datasources.options --markdown | --write FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    from datasources.options import main as _main  # the module's own objects, not this script's copies

    sys.exit(_main(sys.argv[1:]))
