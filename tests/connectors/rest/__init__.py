"""Tests of the declarative shop connector."""
