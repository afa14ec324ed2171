"""emporion's development kit: sandbox shops, a provisioned Tryton ERP and the demo (not for production)."""
