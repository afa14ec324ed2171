"""The contract every connector passes, one part per role, in the spirit of singer-sdk's standard tests.

A connector's test module subclasses the parts for the roles its plugin declares and gives each a
`connector` fixture plus the few hooks that make and change data in the system itself:

```python
from emporion.testing.contract import CatalogueTargetContract, ConnectorContract

class TestMyShop(ConnectorContract):
    plugin = PLUGIN  # the roles it declares are checked against what the connector does

class TestMyShopAsCatalogueTarget(CatalogueTargetContract):
    async def seed(self, connector, record):  # make a product behind emporion's back
        ...
```

Every test of a part is a method of its class: a reader finds what a role promises there, and a
connector runs only the parts for the roles it plays. `tests/connectors/<system>/test_contract.py`
runs them against every connector the project ships.
"""

from emporion.testing.contract.base import ConnectorContract, ContractPart, drain, scan_keys
from emporion.testing.contract.budget import BudgetedConnectionContract, RateLimitedConnectionContract
from emporion.testing.contract.catalogue import CatalogueSourceContract, CatalogueTargetContract
from emporion.testing.contract.customers import CustomerSourceContract, CustomerTargetContract
from emporion.testing.contract.orders import OrderSourceContract, SalesTargetContract
from emporion.testing.contract.webhooks import WebhookSourceContract

__all__ = [
    "BudgetedConnectionContract",
    "CatalogueSourceContract",
    "CatalogueTargetContract",
    "ConnectorContract",
    "ContractPart",
    "CustomerSourceContract",
    "CustomerTargetContract",
    "OrderSourceContract",
    "RateLimitedConnectionContract",
    "SalesTargetContract",
    "WebhookSourceContract",
    "drain",
    "scan_keys",
]
