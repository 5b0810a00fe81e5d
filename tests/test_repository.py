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
    """Binder installs the pinned set CI tests (same constraints file), CPU-only torch of the same
    release, and of the extras only what a reader needs in JupyterLab."""
    import tomllib

    main = _requirements(ROOT / "requirements.txt")
    binder = _requirements(ROOT / "binder" / "requirements.txt")
    torch_main = [r for r in main if re.match(r"torch\b", r)]
    torch_binder = [r for r in binder if re.match(r"torch\b", r)]
    assert torch_main == ["torch==2.13.0"]
    # Same torch release, CPU-only build from PyTorch's CPU index.
    assert torch_binder == ["torch==2.13.0+cpu"]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in binder
    # The same constraints file as `make` (relative to binder/, as pip reads it).
    assert "-c ../constraints.txt" in binder
    assert "CONSTRAINTS ?= constraints.txt" in (ROOT / "Makefile").read_text()
    rest = [r for r in binder if r not in torch_binder and not r.startswith("-")]
    assert rest == [], rest
    assert "-e .[lab]" in binder
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    lab = " ".join(extras["lab"])
    for needed in ("jupyterlab>", "jupyterlab-myst>", "jupytext>", "ipykernel>"):
        assert needed in lab, f"the lab extra (Binder's) lacks {needed[:-1]}"
    assert "jupyter-book" not in lab and "sphinx" not in lab
    assert "-e .[book,lab]" in main  # the reader's full set: the website and the live chapters
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


def _lab_metadata():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "lab_metadata", ROOT / "tools" / "lab_metadata.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_chapter_reads_in_jupyterlab():
    """Each notebook chapter carries the website's maths macros (for jupyterlab-myst) and Lab
    metadata that collapses its hidden check cells: `python tools/lab_metadata.py` fixes it."""
    lab = _lab_metadata()
    defs = lab.macros()
    assert {"\\N", "\\KL", "\\E", "\\JS", "\\R"} <= set(defs)
    chapters = [p for p in chapter_sources() if is_notebook_chapter(p)]
    assert chapters and set(chapters) <= set(lab.chapters())
    stale = [
        str(p.relative_to(ROOT))
        for p in lab.chapters()
        if lab.fixed(p.read_text(), defs) != p.read_text()
    ]
    assert not stale, f"run `python tools/lab_metadata.py`; out of date: {stale}"
    import jupytext

    for path in chapters:
        nb = jupytext.read(path)
        first = nb.cells[0]
        assert first.cell_type == "markdown" and "remove-cell" in first.metadata["tags"]
        front = yaml.safe_load(first.source.split("---")[1])
        assert front["math"] == defs, path
        for cell in nb.cells:
            if cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", []):
                assert cell.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
        # the site's own reader sees the same cells (the macro cell is skipped as remove-cell)
        from myst_nb.core.read import read_myst_markdown_notebook

        site = read_myst_markdown_notebook(path.read_text(encoding="utf-8"))
        assert [c.source for c in site.cells] == [c.source for c in nb.cells], path


def test_lab_metadata_is_idempotent_and_keeps_cells(tmp_path):
    lab = _lab_metadata()
    src = (
        "---\njupytext:\n  formats: md:myst\nkernelspec:\n  display_name: Python 3\n"
        "  name: python3\n---\n\n# T\n\n"
        "```{code-cell} ipython3\n:tags: [remove-cell]\n\nassert 1\n```\n\n"
        "```{code-cell} ipython3\n:tags: [hide-input]\n\nprint(2)\n```\n"
    )
    once = lab.fixed(src, {"\\N": "\\mathcal{N}"})
    assert lab.fixed(once, {"\\N": "\\mathcal{N}"}) == once
    assert once.count(":jupyter: {source_hidden: true, outputs_hidden: true}") == 1
    assert "assert 1" in once and "print(2)" in once and "# T" in once
    changed = lab.fixed(once, {"\\N": "\\mathcal{N}", "\\E": "\\mathbb{E}"})
    assert changed.count("math:") == 1 and "'\\E': '\\mathbb{E}'" in changed
    assert lab.fixed("# not a notebook\n", {}) == "# not a notebook\n"
    # a cell whose options are a YAML block (as jupytext writes them after a save in Lab)
    block = src.replace(":tags: [remove-cell]\n", "---\ntags: [remove-cell]\nmystnb: {a: 1}\n---\n")
    fixed_block = lab.fixed(block, {})
    assert lab.fixed(fixed_block, {}) == fixed_block
    path = tmp_path / "c.md"
    path.write_text(fixed_block)
    import jupytext

    cells = [c for c in jupytext.read(path).cells if c.cell_type == "code"]
    assert cells[0].metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert cells[0].metadata["mystnb"] == {"a": 1} and "jupyter" not in cells[1].metadata


def test_pages_workflow_builds_like_make_book():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = wf["jobs"]["build"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any(re.match(r"make book\b", r) for r in runs), runs
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert upload and upload[0]["with"]["path"] == "_build/html"
    deploy = wf["jobs"]["deploy"]["steps"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in deploy)
    makefile = (ROOT / "Makefile").read_text()
    assert "actionlint .github/workflows/" in makefile
    assert re.search(r"^test:.*\blive-test\b", makefile, re.M)


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


def test_every_companion_package_is_installed():
    # A non-editable install (a wheel) ships only the packages pyproject.toml lists.
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "companion").rglob("__init__.py")
    }
    assert found == listed


def test_no_companion_function_is_longer_than_60_lines():
    import ast

    long = []
    for path in sorted((ROOT / "companion").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert long == [], "split these functions:\n" + "\n".join(long)
