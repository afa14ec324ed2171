"""A sample Warenwirtschaft (German ERP) with only a database and a file drop, for the demo and tests."""
