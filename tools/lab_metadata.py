"""Make the book's chapters read in JupyterLab as they do on the website.

Two things JupyterLab needs that the website gets elsewhere; this script writes them into every
chapter (a MyST Markdown notebook with a jupytext header) and is safe to run again:

1. The maths macros. The website's MathJax takes them from ``_config.yml``
   (``sphinx.config.mathjax3_config.tex.macros``), the ONE place they are defined. JupyterLab's
   MyST renderer (``jupyterlab-myst``) reads macros from the ``math:`` front matter of the
   notebook's first Markdown cell, so each chapter starts with a small Markdown cell holding a
   copy generated from ``_config.yml``. The cell is tagged ``remove-cell``, so the website (which
   has the macros already) skips it.
2. The hidden check cells. A code cell tagged ``remove-cell`` is left out of the website but
   shown in JupyterLab; the metadata ``jupyter: {source_hidden: true, outputs_hidden: true}``
   collapses it in Lab (a click opens it). The cell itself stays and still runs.

Usage, from the repository root::

    python tools/lab_metadata.py            # rewrite every chapter in book/ that needs it
    python tools/lab_metadata.py --check    # list chapters that need it; exit 1 if any
    python tools/lab_metadata.py book/x.md  # only these files

``tests/test_repository.py`` runs the check, so a new chapter fails the tests until this script
has been run on it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = "{source_hidden: true, outputs_hidden: true}"
_HEADER = re.compile(r"\A---\n.*?^jupytext:.*?^---\n", re.S | re.M)
# The macro cell: "+++ {metadata}", a blank line, the YAML block, a blank line, "+++".
_MACRO_CELL = re.compile(
    r'\n\+\+\+ \{"tags": \["remove-cell"\]\}\n\n---\nmath:\n.*?^---\n\n\+\+\+\n', re.S | re.M
)
_CODE_CELL_OPTIONS = re.compile(r"^```\{code-cell\}[^\n]*\n((?::[\w-]+:[^\n]*\n)+)", re.M)
# The other way MyST writes a code cell's options: a YAML block between two "---" lines.
_CODE_CELL_YAML = re.compile(r"^(```\{code-cell\}[^\n]*\n)---\n(.*?)^---\n", re.M | re.S)


def macros(config: Path = ROOT / "_config.yml") -> dict[str, str]:
    """The website's MathJax macros, as ``{"\\\\name": "definition"}``."""
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    tex = cfg["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    out = {}
    for name, definition in tex.items():
        if isinstance(definition, list):  # MathJax's [definition, number of arguments]
            definition = definition[0]
        out["\\" + name] = str(definition)
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def macro_cell(defs: dict[str, str]) -> str:
    """The first Markdown cell of every chapter, as it appears in the ``.md`` file."""
    lines = [f"  {_quote(k)}: {_quote(v)}" for k, v in defs.items()]
    body = "\n".join(["---", "math:", *lines, "---"])
    return f'\n+++ {{"tags": ["remove-cell"]}}\n\n{body}\n\n+++\n'


def _hide_check_cells(text: str) -> str:
    def fix(match: re.Match) -> str:
        options = match.group(1)
        parsed = yaml.safe_load("\n".join(line[1:] for line in options.splitlines()))
        tags = parsed.get("tags") or []
        if "remove-cell" not in tags or parsed.get("jupyter") == yaml.safe_load(HIDDEN):
            return match.group(0)
        kept = "".join(
            line + "\n" for line in options.splitlines() if not line.startswith(":jupyter:")
        )
        return match.group(0).replace(options, kept + f":jupyter: {HIDDEN}\n")

    def fix_yaml(match: re.Match) -> str:
        parsed = yaml.safe_load(match.group(2)) or {}
        tags = parsed.get("tags") or []
        if "remove-cell" not in tags or parsed.get("jupyter") == yaml.safe_load(HIDDEN):
            return match.group(0)
        parsed["jupyter"] = yaml.safe_load(HIDDEN)
        body = yaml.safe_dump(parsed, default_flow_style=None, sort_keys=False, allow_unicode=True)
        return f"{match.group(1)}---\n{body}---\n"

    return _CODE_CELL_YAML.sub(fix_yaml, _CODE_CELL_OPTIONS.sub(fix, text))


def fixed(text: str, defs: dict[str, str]) -> str:
    """``text`` (a chapter) with the macro cell and the Lab-hidden check cells."""
    header = _HEADER.match(text)
    if header is None:
        return text  # not a notebook chapter
    head, rest = text[: header.end()], text[header.end() :]
    rest = _MACRO_CELL.sub("", rest, count=1) if rest.startswith("\n+++ ") else rest
    return head + macro_cell(defs) + _hide_check_cells(rest)


def chapters() -> list[Path]:
    return sorted(p for p in (ROOT / "book").rglob("*.md") if _HEADER.match(p.read_text("utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="chapters (default: all of book/)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    args = parser.parse_args(argv)
    defs = macros()
    stale = []
    for path in args.files or chapters():
        text = path.read_text(encoding="utf-8")
        new = fixed(text, defs)
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    verb = "needs" if args.check else "updated"
    for path in stale:
        print(f"{verb}: {path}")
    if args.check and stale:
        print("run: python tools/lab_metadata.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
