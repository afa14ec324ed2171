"""emporion: keeps a merchant's ERP and their online shops in sync."""

__version__ = "0.1.0"
