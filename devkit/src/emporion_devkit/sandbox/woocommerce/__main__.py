"""`python -m emporion.sandbox.woocommerce`: the same as `emporion sandbox woocommerce`."""

import typer

from emporion.sandbox.cli import woocommerce

if __name__ == "__main__":
    typer.run(woocommerce)
