"""`emporion demo`: a real Tryton ERP with a sample catalogue, a WooCommerce sandbox, and a live sync."""

from emporion_devkit.demo.run import run_demo

__all__ = ["run_demo"]
