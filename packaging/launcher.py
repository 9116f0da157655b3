"""The bundle's one entry point: `enclave-desktop` opens the window, `enclave` (the same
program under another name) is the command line, as in the source tree. The name is the
one it was started by (on Linux `enclave-desktop` is a link to `enclave`)."""

import sys
from pathlib import Path

if Path(sys.argv[0]).stem == "enclave-desktop":
    from app.desktop import main
else:
    from app.cli import main

sys.exit(main())
