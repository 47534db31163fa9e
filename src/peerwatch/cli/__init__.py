"""The `peerwatch` command line: `app` (the Typer app) and `main` (the console-script entry point)."""

try:
    from .main import app, main
except KeyboardInterrupt:  # Ctrl-C while the command line itself imports: one line, as everywhere else
    import sys

    sys.stderr.write("error: interrupted before the command started; nothing ran\n")
    raise SystemExit(130) from None

__all__ = ["app", "main"]
