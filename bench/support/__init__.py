"""Shared benchmark helpers: the sandbox in its own process, measurements, sources and engines."""
