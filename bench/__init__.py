"""Reproducible benchmarks of emporion against the platforms' ceilings (`python bench/run.py --help`)."""
