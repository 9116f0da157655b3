"""Enclave's composition layer: settings, the command line, the LAN API and the launchers."""

import os

__version__ = "0.1.0"


def stay_offline() -> None:
    """Tell every library that might look for the network not to: the models are inside
    the installation (Hugging Face hub, transformers), and nothing sends telemetry."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE",
                 "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
