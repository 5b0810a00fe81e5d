"""Simulate Binder's install of the book and run one chapter in it (``make binder-test``).

Binder (repo2docker) creates a Python 3.11 environment, runs ``pip install -r
binder/requirements.txt`` from the repository's root, then ``binder/postBuild``. This script does
the same in a fresh virtual environment (``_build/binder-venv``), with one change: the line that
names PyTorch's CPU index is replaced by ``--torch-source`` (default: nothing, i.e. wherever this
machine's pip finds ``torch==2.13.0+cpu``, e.g. a ``find-links`` folder in its configuration).
Then it checks what a reader gets:

- ``pip check`` passes, and every installed package that ``constraints.txt`` pins has exactly the
  pinned version (Binder runs the set CI tested);
- JupyterLab, jupyterlab-myst and jupytext are there, the website's tools (jupyter-book, Sphinx)
  are not;
- postBuild made jupytext the default viewer of Markdown files;
- one chapter (default ``divergences``) executes top to bottom in that environment.

    python tools/binder_sim.py [--python python3.11] [--chapter divergences] [--torch-source ARGS]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "binder-sim"
VENV = ROOT / "_build" / "binder-venv"
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("+", " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_CONFIG_DIR"] = str(OUT / "jupyter-config")  # postBuild writes here, not ~
    return env


def install(python: str, torch_source: str) -> None:
    shutil.rmtree(VENV, ignore_errors=True)
    run([python, "-m", "venv", str(VENV)])
    pip = [str(VENV / "bin" / "python"), "-m", "pip"]
    run([*pip, "install", "--quiet", "--upgrade", "pip"])
    original = (ROOT / "binder" / "requirements.txt").read_text()
    assert CPU_INDEX in original, "binder/requirements.txt no longer names PyTorch's CPU index"
    # Beside the original, so that its relative paths (-c ../constraints.txt) mean the same.
    swapped = ROOT / "binder" / ".requirements-sim.txt"
    swapped.write_text(original.replace(CPU_INDEX, torch_source))
    try:
        run([*pip, "install", "--quiet", "-r", str(swapped)], cwd=ROOT, env=_env())
    finally:
        swapped.unlink()
    run(["bash", str(ROOT / "binder" / "postBuild")], cwd=ROOT, env=_env())


def check_install() -> None:
    py = str(VENV / "bin" / "python")
    run([py, "-m", "pip", "check"], env=_env())
    frozen = subprocess.run(
        [py, "-m", "pip", "list", "--format=json"], check=True, capture_output=True, text=True
    ).stdout
    installed = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(frozen)}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    wrong = {
        name: (installed[name], pin)
        for name, pin in pins.items()
        if name in installed and installed[name].split("+")[0] != pin
    }
    assert not wrong, f"installed versions differ from constraints.txt: {wrong}"
    for needed in ("jupyterlab", "jupyterlab-myst", "jupytext", "ipykernel", "torch"):
        assert needed in installed, f"{needed} is missing from Binder's install"
    assert installed["torch"].endswith("+cpu"), f"torch {installed['torch']} is not the CPU build"
    for website_only in ("jupyter-book", "sphinx", "myst-nb", "pytest"):
        assert website_only not in installed, f"{website_only} is installed but no reader needs it"
    print(f"{len(installed)} packages, {len(set(installed) & set(pins))} pinned, all as pinned")
    overrides = OUT / "jupyter-config" / "labconfig" / "default_setting_overrides.json"
    viewers = json.loads(overrides.read_text())["@jupyterlab/docmanager-extension:plugin"]
    assert viewers["defaultViewers"]["markdown"] == "Jupytext Notebook", viewers


def run_chapter(chapter: str) -> float:
    source = ROOT / "book" / f"{chapter}.md"
    out = OUT / f"{chapter}.ipynb"
    start = time.perf_counter()
    run(
        [str(VENV / "bin" / "python"), "-m", "jupytext", "--to", "ipynb", "--execute",
         "--output", str(out), str(source)],
        cwd=source.parent, env=_env(),
    )  # fmt: skip
    seconds = time.perf_counter() - start
    nb = json.loads(out.read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, errors
    ran = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert ran and all(c["execution_count"] for c in ran), "not every cell ran"
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="python3.11", help="Binder's runtime.txt: python-3.11")
    parser.add_argument("--chapter", default="divergences")
    parser.add_argument("--torch-source", default="", help="pip options replacing the CPU index")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    install(args.python, args.torch_source)
    print(f"install: {time.perf_counter() - start:.0f} s")
    check_install()
    seconds = run_chapter(args.chapter)
    print(f"binder simulation passed: {args.chapter} ran in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
