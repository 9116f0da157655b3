"""Shared by the benchmarks: the machine they ran on, a scratch vault, writing results.

The benchmarks use the engine as every front end does: the package `engine` itself and
the service's facade objects, never a submodule (bench/synthetic_library.py, which
writes a large library straight into a vault, is the one exception).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

RESULTS = Path(__file__).parent / "results"
R_MANUALS = Path("/usr/share/R/doc/manual")
PASSPHRASE = "benchmark passphrase"


def machine_info() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(meminfo[1]) / 2**20, 1),
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}


def open_service(data_dir: Path, **kwargs):
    from engine import EnclaveService, EngineConfig

    config = EngineConfig(data_dir=data_dir, **kwargs)
    return EnclaveService.open(config, lambda new: PASSPHRASE, prefer_keyring=False)


def write_results(name: str, results: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine_info(), **results}, indent=1,
                               ensure_ascii=False) + "\n")
    print(f"wrote {path}")
    return path


def desktop_environment(folder: str) -> dict:
    """The environment of a desktop app started as `make run` starts it, on a passphrase
    library made in `folder` (as on every start after the first): the passphrase is left
    for the app to ask for."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "ENCLAVE_CONFIG_DIR": f"{folder}/config", "ENCLAVE_DATA_DIR": f"{folder}/data",
           "ENCLAVE_KEY_SOURCE": "passphrase", "ENCLAVE_PASSPHRASE": PASSPHRASE,
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    subprocess.run([sys.executable, "-m", "app", "status"], env=env, check=True,
                   capture_output=True)
    Path(f"{folder}/config").mkdir()
    Path(f"{folder}/config/settings.json").write_text(json.dumps({"key_source": "passphrase"}))
    env.pop("ENCLAVE_PASSPHRASE")
    return env
