"""The operations console (`emporion.ops`): service layer over state and connectors, API, access control."""
