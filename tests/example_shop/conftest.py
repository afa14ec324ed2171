"""The example connector's own tests import it as the package it is (`emporion_minishop`)."""

import sys

from tests.example_shop.install import PACKAGE_ROOT

if str(PACKAGE_ROOT) not in sys.path:
    sys.path.append(str(PACKAGE_ROOT))
