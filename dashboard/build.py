"""The build a server runs: a digest of its code and assets, so that a page drawn by another build (a wall left
open across a deploy) can tell and reload itself (``assets/liveness.js``)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("dashboard", "layouts", "datasources", "assets")  # what a page's drawing and callbacks come from
SUFFIXES = frozenset({".py", ".js", ".css"})


def digest(root: Path, parts: tuple[str, ...] = PARTS) -> str:
    """A digest of the code and asset files under ``root``'s ``parts``, by path and content."""
    found = hashlib.blake2b(digest_size=8)
    for part in parts:
        for path in sorted((root / part).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file():
                found.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return found.hexdigest()


@cache
def build_id() -> str:
    """This process's build, read once."""
    return digest(ROOT)
