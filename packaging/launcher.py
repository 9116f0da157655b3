"""The bundle's one entry point: `enclave-desktop` opens the window, `enclave` (the same
program under another name) is the command line, as in the source tree. The name is the
one it was started by (on Linux `enclave-desktop` is a link to `enclave`).

A copy started by multiprocessing (the ingest worker's reader process) runs only the
reader: `freeze_support` does that and exits, before any front end is imported."""

import multiprocessing
import sys
from pathlib import Path

multiprocessing.freeze_support()

if Path(sys.argv[0]).stem == "enclave-desktop":
    from app.desktop import main
else:
    from app.cli import main

sys.exit(main())
