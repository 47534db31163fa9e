"""`python -m peerwatch.cli ...` (the Dask executor and the tests start the CLI this way)."""

from .main import main

main()
