"""Pages that fit: every visible code line of a chapter is at most 88 characters, the most that
the text column of a 1280-px-wide window shows at the site's code size (the browser tests check
the rendered page too: equations, code and printed output)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_repository import toc_files

MAX_CHARS = 88
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
HIDDEN = re.compile(r"remove-cell|remove-input|hide-input")


def long_visible_lines(text: str) -> list[str]:
    out = []
    for m in CELL.finditer(text):
        body = m.group(1)
        head = body.split("\n\n", 1)[0] if body.startswith((":", "---")) else ""
        if HIDDEN.search(head):
            continue
        out += [line for line in body.splitlines() if len(line) > MAX_CHARS]
    return out


@pytest.mark.parametrize("path", toc_files(), ids=lambda p: p.stem)
def test_visible_code_lines_fit_the_column(path: Path):
    bad = long_visible_lines(path.read_text())
    assert not bad, f"{path.name}: {len(bad)} visible code lines over {MAX_CHARS} characters:\n" + (
        "\n".join(bad[:10])
    )


def test_hidden_cells_are_skipped():
    text = (
        "```{code-cell} ipython3\n:tags: [remove-cell]\n\n" + "x" * 120 + "\n```\n"
        "```{code-cell} ipython3\n" + "y" * 90 + "\n```\n"
    )
    assert long_visible_lines(text) == ["y" * 90]
