"""Shared fixtures: each real system's fixture lives in tests/fixtures/ and is loaded here."""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.tryton",
    "tests.fixtures.state",
    "tests.fixtures.alerts",
    "tests.fixtures.sqldb",
    "tests.fixtures.sftp",
    "tests.fixtures.medusa",
    "tests.fixtures.vendure",
    "tests.fixtures.merchantpro",
]
