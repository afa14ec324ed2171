"""The file connector: a Warenwirtschaft's CSV, XLSX or XML exports and imports, on a folder or SFTP."""
