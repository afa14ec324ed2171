"""`python -m emporion` is the `emporion` command."""

from emporion.cli import app

app(prog_name="emporion")
