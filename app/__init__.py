"""Enclave's composition layer: settings, the command line and (later) the launchers."""

__version__ = "0.1.0"
