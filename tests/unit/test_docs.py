"""The documents hold together: every relative link resolves, the README's example config is valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.core import settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """``text`` without code blocks and inline code, where brackets are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown text (a repeated heading gets -1, -2...)."""
    found: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", text)):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = found.get(slug, 0)
        found[slug] = count + 1
        if count:
            found[f"{slug}-{count}"] = 1
    return set(found)


def relative_links(document: Path) -> list[str]:
    """Every link target in ``document`` that is not a web or mail address."""
    return [
        target
        for target in LINK.findall(prose(document.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)
    ]


def broken(document: Path, target: str) -> str | None:
    """Why ``target``, linked from ``document``, does not resolve; None when it does."""
    path_part, _, anchor = target.partition("#")
    linked = (document.parent / path_part).resolve() if path_part else document
    if not linked.exists():
        return f"{path_part} does not exist"
    if anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text(encoding="utf-8")):
        return f"{linked.name} has no heading #{anchor}"
    return None


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    problems = [f"{target}: {why}" for target in relative_links(document) if (why := broken(document, target))]
    assert not problems, f"{document.name}: broken links:\n" + "\n".join(problems)


def test_the_link_check_sees_a_broken_file_and_a_broken_anchor(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n## Two words\n\n[ok](#two-words) [gone](missing.md) [bad](#nowhere)\n"
        "`[code](not-a-link.md)`\n```\n[fenced](not-a-link-either.md)\n```\n",
        encoding="utf-8",
    )
    results = {target: broken(page, target) for target in relative_links(page)}
    assert results == {
        "#two-words": None,
        "missing.md": "missing.md does not exist",
        "#nowhere": "page.md has no heading #nowhere",
    }


def test_github_anchors_of_headings():
    text = "# opscenter\n## The wall (operations center)\n## /maturity (auditor)\n## Pages\n## Pages\n"
    assert anchors(text) == {"opscenter", "the-wall-operations-center", "maturity-auditor", "pages", "pages-1"}


def test_the_readme_example_config_is_valid(monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    assert blocks, "README.md has no yaml example"
    for name in re.findall(r"\$\{(\w+)\}", blocks[0]):
        monkeypatch.setenv(name, "example-secret")
    config = settings.parse(blocks[0], "README.md")
    assert {source["kind"] for source in config.sources} == {"demo", "prometheus"}
