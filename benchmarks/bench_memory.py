"""Peak resident memory of every chapter, each run top to bottom in a fresh kernel.

Binder gives a reader about 2 GB; the goal is <= 1.5 GB per chapter (the JupyterLab server and
the browser tab need the rest). Each chapter is converted by jupytext, executed by nbclient in a
new ``python3`` kernel started in the chapter's folder (as in JupyterLab), and a last cell added
here reads the kernel's peak resident set size (``getrusage`` ``ru_maxrss``, which Linux reports
in KiB). Figures run in the live mode, as in Jupyter.

    python benchmarks/bench_memory.py [chapter ...]     # default: every chapter in book/
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from conftest import is_notebook_chapter  # noqa: E402

GOAL_MB = 1500
PEAK_CELL = "import resource\nprint('PEAK_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def peak_mb(path: Path, timeout: int = 900) -> tuple[float, float]:
    """(peak resident MB of a fresh kernel that ran ``path``, seconds)."""
    nb = jupytext.read(path)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    os.environ.pop("GF_FIGURE_MODE", None)  # live mode, as a reader in Jupyter gets
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    kib = int(text.split("PEAK_KIB")[1].split()[0])
    return kib / 1024, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    args = parser.parse_args()
    book = ROOT / "book"
    if args.chapters:
        paths = [book / f"{name}.md" for name in args.chapters]
    else:
        paths = sorted(p for p in book.glob("*.md") if is_notebook_chapter(p))
    print(f"{'chapter':18s} {'peak RSS':>10s} {'time':>7s}")
    worst = 0.0
    for path in paths:
        mb, seconds = peak_mb(path)
        worst = max(worst, mb)
        flag = "" if mb <= GOAL_MB else f"  over the {GOAL_MB} MB goal"
        print(f"{path.stem:18s} {mb:8.0f} MB {seconds:6.0f} s{flag}", flush=True)
    print(f"largest: {worst:.0f} MB; goal <= {GOAL_MB} MB per chapter:",
          "met" if worst <= GOAL_MB else "NOT met")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
