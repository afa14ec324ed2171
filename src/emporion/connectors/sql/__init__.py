"""The SQL connector: a Warenwirtschaft's database read by tables and queries, orders into import tables."""
