"""The repository's promises: every chapter is in the table of contents and executed by nbval,
Binder installs what CI tests, and the requirements are pinned the way the README says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"

sys.path.insert(0, str(ROOT))
from conftest import is_notebook_chapter  # noqa: E402


def toc_files() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc.get("parts", toc.get("chapters", [])))
    out = []
    for f in found:
        matches = [
            p
            for p in (ROOT / f).parent.glob((ROOT / f).name + ".*")
            if p.suffix in (".md", ".ipynb")
        ]
        assert len(matches) == 1, f"_toc.yml entry {f!r} matches {matches}"
        out.append(matches[0])
    return out


def chapter_sources() -> list[Path]:
    """Every page source in book/, except fragments in folders starting with "_" (included by a
    page, e.g. book/_errata/*.md by the errata page)."""
    return sorted(
        p
        for p in BOOK.rglob("*")
        if p.suffix in (".md", ".ipynb")
        and ".ipynb_checkpoints" not in p.parts
        and not any(part.startswith("_") for part in p.relative_to(BOOK).parts[:-1])
    )


def test_every_errata_fragment_is_included():
    page = (BOOK / "errata.md").read_text()
    included = set(re.findall(r"```\{include\}\s+(\S+)", page))
    fragments = {f"_errata/{p.name}" for p in (BOOK / "_errata").glob("*.md")}
    assert fragments - included == set(), "errata fragments missing from book/errata.md"
    assert included - fragments == set(), "book/errata.md includes files that do not exist"


def test_every_chapter_file_is_in_the_toc():
    listed = set(toc_files())
    missing = [str(p.relative_to(ROOT)) for p in chapter_sources() if p not in listed]
    assert missing == [], f"chapter files not listed in _toc.yml: {missing}"


def test_no_committed_notebooks_in_book():
    assert [p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts] == [], (
        "chapters are MyST Markdown; converted notebooks must not live in book/"
    )


def test_pages_with_code_are_notebook_chapters():
    for p in toc_files():
        text = p.read_text()
        if "{code-cell}" in text:
            assert is_notebook_chapter(p), f"{p.name} has code cells but no jupytext header"


def test_nbval_collects_every_notebook_chapter_in_the_toc():
    """Run nbval's collection exactly as `make chapters` does and compare with the toc."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "--collect-only",
            "-q",
            "book",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    collected = {line.split("::", 1)[0] for line in out.stdout.splitlines() if "::" in line}
    expected = {str(p.relative_to(ROOT)) for p in toc_files() if "{code-cell}" in p.read_text()}
    assert expected, "the book has executable chapters"
    assert collected == expected


def _requirements(path: Path) -> list[str]:
    lines = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
    return [ln for ln in lines if ln]


def test_binder_installs_what_ci_tests():
    main = _requirements(ROOT / "requirements.txt")
    binder = _requirements(ROOT / "binder" / "requirements.txt")
    torch_main = [r for r in main if re.match(r"torch\b", r)]
    torch_binder = [r for r in binder if re.match(r"torch\b", r)]
    assert torch_main == ["torch==2.13.0"]
    # Same torch release, CPU-only build from PyTorch's CPU index.
    assert torch_binder == ["torch==2.13.0+cpu"]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in binder
    rest_main = [r for r in main if r not in torch_main]
    rest_binder = [r for r in binder if r not in torch_binder and not r.startswith("--")]
    assert rest_binder == rest_main
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    assert "jupytext-config set-default-viewer" in (ROOT / "binder" / "postBuild").read_text()


def test_dependency_ranges_have_major_caps():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        deps += extra
    for dep in deps:
        assert ">=" in dep and "<" in dep.replace("<=", ""), f"{dep!r} needs a range with a cap"


def test_constraints_lock_covers_the_install():
    lock = ROOT / "constraints.txt"
    if not lock.exists():
        pytest.fail("constraints.txt (the exact set CI used) is missing; run `make lock`")
    pins = dict(ln.split("==", 1) for ln in _requirements(lock) if "==" in ln)
    for name in ("torch", "plotly", "jupyter-book", "myst-nb", "nbval", "ipywidgets"):
        assert name in {k.lower() for k in pins}, f"{name} not pinned in constraints.txt"
    assert pins.get("torch") == "2.13.0"


def test_ci_calls_the_readme_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make book" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_bibliography_parses_with_one_entry_per_work():
    """references.bib is valid BibTeX (a lost brace makes pybtex refuse the whole file) and no
    work appears under two keys."""
    from pybtex.database import parse_file

    entries = parse_file(str(BOOK / "references.bib")).entries
    titles = {}
    for key, entry in entries.items():
        title = re.sub(r"[{}\\\s]+", " ", entry.fields.get("title", "")).strip().lower()
        assert title not in titles, f"{key} and {titles[title]} are the same work"
        titles[title] = key
