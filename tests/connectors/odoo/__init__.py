"""Tests of the Odoo connector: client, profiles, check, catalogue, sales, against the Odoo sandbox."""
