"""peerwatch: red-team harness and oversight layer for peer-preservation in multi-agent AI systems."""

__version__ = "0.1.0"
