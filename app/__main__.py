"""`python -m app` runs the command line, as the `enclave` console script does."""

from app.cli import main

raise SystemExit(main())
