"""The Odoo connector: catalogue, stock and sales of Odoo 17, 18 and 19 over JSON-RPC or JSON-2."""
