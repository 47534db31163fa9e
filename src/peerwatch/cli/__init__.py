"""The `peerwatch` command line: `app` (the Typer app) and `main` (the console-script entry point)."""

from .main import app, main

__all__ = ["app", "main"]
