"""One module per benchmark scenario: `DEFAULT_SIZE`, a one-line docstring and `run(size, options)`."""
