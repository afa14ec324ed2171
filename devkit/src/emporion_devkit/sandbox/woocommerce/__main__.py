"""`python -m emporion_devkit.sandbox.woocommerce`: the same as `emporion sandbox woocommerce`."""

import typer

from emporion_devkit.sandbox.cli import woocommerce

if __name__ == "__main__":
    typer.run(woocommerce)
