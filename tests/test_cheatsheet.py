"""The cheat sheet: every formula links to an equation some chapter defines, and every chapter it
summarises is linked, in book order, with each section pointing into its own chapter."""

from __future__ import annotations

import re

from test_repository import BOOK, chapter_sources, toc_files

SHEET = BOOK / "cheatsheet.md"
# The chapters the sheet summarises, one section each, in book order.
CHAPTERS = [
    "probability",
    "measure",
    "information",
    "divergences",
    "linear_algebra",
    "optimization",
    "manifolds",
    "vae",
    "gan",
    "flows",
    "diffusion",
    "zoo",
    "components",
]
EQ_REF = re.compile(r"\{eq\}`([^`]+)`")
DOC_REF = re.compile(r"\{doc\}`([^`<>]+)`")
CODE_CELL = re.compile(r"^```\{code-cell\}.*?^```", re.S | re.M)


def _prose() -> str:
    """The sheet without its code cells (only the Markdown can link)."""
    return CODE_CELL.sub("", SHEET.read_text())


def _label_owner() -> dict[str, str]:
    """Equation label -> stem of the page whose ``:label:`` defines it."""
    owner = {}
    for p in chapter_sources():
        for label in re.findall(r"^:label:\s*(\S+)", p.read_text(), re.M):
            owner[label] = p.stem
    return owner


def _sections() -> list[tuple[str, str]]:
    """(heading, body) of each level-2 section of the sheet."""
    parts = re.split(r"^## +(.+)$", _prose(), flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def test_cheatsheet_is_a_notebook_page_in_the_toc():
    assert SHEET in toc_files()
    text = SHEET.read_text()
    assert text.startswith((BOOK / "notation.md").read_text().split("\n---\n", 1)[0] + "\n---\n")
    assert "\n# Cheat sheet\n" in text


def test_every_equation_reference_is_defined():
    refs = EQ_REF.findall(_prose())
    assert refs, "the cheat sheet links its formulas to their derivations"
    missing = sorted(set(refs) - set(_label_owner()))
    assert missing == [], f"cheat sheet cites equations no chapter defines: {missing}"


def test_every_chapter_is_linked_in_book_order():
    order = [p.stem for p in toc_files()]
    assert sorted(CHAPTERS, key=order.index) == CHAPTERS, "CHAPTERS must follow the toc"
    owner = _label_owner()
    linked = {owner.get(label) for label in EQ_REF.findall(_prose())}
    missing = [c for c in CHAPTERS if c not in linked]
    assert missing == [], f"chapters with no equation linked from the cheat sheet: {missing}"


def test_each_section_points_into_its_own_chapter():
    owner = _label_owner()
    seen = []
    for heading, body in _sections():
        docs = [d for d in DOC_REF.findall(body) if d in CHAPTERS]
        assert len(set(docs)) == 1, f"section {heading!r} should link exactly one chapter: {docs}"
        chapter = docs[0]
        seen.append(chapter)
        refs = EQ_REF.findall(body)
        assert refs, f"section {heading!r} links no equation"
        stray = sorted(r for r in refs if owner.get(r) != chapter)
        assert stray == [], f"section {heading!r} ({chapter}) cites other pages' equations: {stray}"
    assert seen == CHAPTERS, "one section per chapter, in book order"
