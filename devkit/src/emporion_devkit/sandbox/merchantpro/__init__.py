"""A MerchantPro-like sandbox shop (REST API v2), built from MerchantPro's public API documentation only.

with MerchantProSandbox().serve() as url:
    httpx.get(url + "/api/v2/products", auth=(sandbox.api_key, sandbox.api_secret))
"""

from __future__ import annotations

from emporion_devkit.sandbox.merchantpro.errors import ApiError
from emporion_devkit.sandbox.merchantpro.server import MerchantProSandbox

__all__ = ["ApiError", "MerchantProSandbox"]
