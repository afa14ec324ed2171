"""The system-agnostic engine: flows, mapping, planning, the worker loop and verification."""
