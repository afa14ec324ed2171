"""An Odoo 17/18/19 sandbox: JSON-RPC and JSON-2 over a SQLite-backed ORM with Odoo's semantics."""

from __future__ import annotations

from emporion_devkit.sandbox.odoo.sandbox import OdooSandbox

__all__ = ["OdooSandbox"]
