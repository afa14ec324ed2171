"""Provisioning of the ERP emporion is developed and tested against: a real Tryton database and server."""
