"""Shipped descriptions of well-known shops: `<name>.yaml` (read by `settings/presets.py` while the
configuration is validated) and, where a description cannot say everything, `<name>.py` with the
preset's `HOOKS` (imported only when a connection of that preset is built)."""
