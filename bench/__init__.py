"""Benchmarks for dwpose-annotator (not part of the installed package)."""
