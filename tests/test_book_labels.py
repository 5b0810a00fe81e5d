"""Cross-references: equation labels are unique, and the companion cites only existing ones."""

from __future__ import annotations

import re

from test_repository import ROOT, chapter_sources


def _labels() -> list[str]:
    found = []
    for p in chapter_sources():
        found += re.findall(r"^:label:\s*(\S+)", p.read_text(), re.M)
    return found


def test_equation_labels_are_unique():
    labels = _labels()
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    assert dupes == [], f"labels defined twice: {dupes}"


def test_companion_docstrings_cite_existing_equations():
    """Docstrings point back to the chapter equation they implement; that label must exist."""
    labels = set(_labels())
    cited = set()
    for path in (ROOT / "companion").rglob("*.py"):
        cited |= set(re.findall(r"\{eq\}`(eq-[\w-]+)`", path.read_text()))
    assert cited, "the companion cites chapter equations"
    missing = sorted(cited - labels)
    assert missing == [], f"companion docstrings cite equations no chapter defines: {missing}"
