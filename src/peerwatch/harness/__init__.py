"""Harness mode: real SSH servers, real agent CLIs, a model server, judged by the same detectors."""
