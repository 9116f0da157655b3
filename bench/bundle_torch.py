"""What PyTorch costs the bundle: its share of the folder and of start-up.

PyTorch is in the bundle only to run the embedding model (sentence-transformers). This
measures what an embedding runtime without it would save: the size of torch and of the
packages only torch needs inside dist/enclave/, and the time to import torch and
sentence-transformers in fresh processes of the bundle's build venv, against the
baseline of a bare interpreter and of `numpy + tokenizers` (what a torch-free embedder
still imports). Medians of RUNS fresh processes. Needs `make package` first.

    build/package-venv/bin/python bench/bundle_torch.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import write_results  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "enclave"
IMPORTS = {"bare interpreter": "pass", "numpy + tokenizers": "import numpy, tokenizers",
           "torch": "import torch", "sentence_transformers": "import sentence_transformers"}
RUNS = 5


def size(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True,
                              check=True).stdout.split()[0]) if path.exists() else 0


def import_seconds(statement: str) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def main() -> None:
    if not BUNDLE.is_dir():
        sys.exit("dist/enclave is missing: run `make package` first")
    # torch's folder holds its libraries; the pure-Python packages only torch needs (sympy,
    # networkx…) are compressed inside the programs' archive and not counted here
    results = {
        "bundle_mb": round(size(BUNDLE) / 1e6),
        "torch_mb": round(size(BUNDLE / "_internal" / "torch") / 1e6),
        "import_s": {name: import_seconds(code) for name, code in IMPORTS.items()},
        "runs": RUNS,
    }
    print(results)
    write_results("bundle_torch", results)


if __name__ == "__main__":
    main()
