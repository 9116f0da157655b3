"""The bundle's one entry point: `enclave-desktop` opens the window, `enclave` (the same
program under another name) is the command line, as in the source tree."""

import sys
from pathlib import Path

if Path(sys.executable).stem == "enclave-desktop":
    from app.desktop import main
else:
    from app.cli import main

sys.exit(main())
