"""`OdooSandbox`: an Odoo 17, 18 or 19 stand-in served by uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from emporion_devkit.sandbox.odoo import merchant
from emporion_devkit.sandbox.odoo.access import add_key, user_by_key
from emporion_devkit.sandbox.odoo.app import build_app
from emporion_devkit.sandbox.odoo.faults import Faults, with_faults
from emporion_devkit.sandbox.odoo.orm import Env
from emporion_devkit.sandbox.odoo.sample import seed_catalogue
from emporion_devkit.sandbox.odoo.seed import seed_base
from emporion_devkit.sandbox.odoo.server import OdooServer
from emporion_devkit.sandbox.serving import ThreadedServer
from emporion_devkit.sandbox.woocommerce.server import exact_date

KEY_DAYS_19 = 90


class OdooSandbox(merchant.MerchantActions):
    """A running sandbox: its URL, database, integration login and API key, and the merchant's actions."""

    def __init__(
        self,
        path: Path | str,
        *,
        version: int = 18,
        api_key: str,
        database: str = "emporion",
        login: str = "emporion",
        key_expires: datetime | None = None,
        products: int = 20,
        variant_share: float = 0.2,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.server = OdooServer(str(path), version, database)
        self.database, self.username, self.api_key = database, login, api_key
        self.host, self.port = host, port
        self.fresh = not self.server.store.table("res.company")
        if key_expires is None and version >= 19:  # a key made on 19 lasts at most three months
            key_expires = datetime.now(UTC) + timedelta(days=KEY_DAYS_19)
        with self.server.store.transaction():
            if self.fresh:
                self.ids = seed_base(self.env(), login, api_key, key_expires)
                seed_catalogue(self.env(), self.ids, products, variant_share, seed)
                self.server.store.table("res.company")[1]["sandbox_ids"] = self.ids
                self.server.store.touch("res.company", 1)
            else:
                self.ids = self.server.store.table("res.company")[1]["sandbox_ids"]
        if not self.fresh and user_by_key(self.env(), api_key) is None:  # a key new to an existing database
            self.add_api_key(api_key, key_expires)
        self.faults = Faults()  # `sandbox.faults.add("lost", route="/jsonrpc")`
        self._serving = ThreadedServer("the Odoo sandbox")

    def add_api_key(self, key: str, expires: datetime | None = None) -> None:
        """Give the integration user another API key (expired ones test refusals)."""
        with self.server.store.transaction():
            expiry = expires.strftime("%Y-%m-%d %H:%M:%S") if expires else None
            add_key(self.env(), self.ids["integration"], key, expiry)

    @property
    def version(self) -> int:
        """The Odoo major version the sandbox plays."""
        return self.server.version.major

    @property
    def base_url(self) -> str:
        """The server URL (what `OdooConnection.url` takes)."""
        return f"http://{self.host}:{self.port}"

    def env(self, context: dict[str, Any] | None = None) -> Env:
        """A superuser environment (the merchant's hand; no access checks)."""
        return self.server.env(context=context)

    def start(self) -> None:
        """Bind the socket and serve in a background thread."""
        self.port = self._serving.bind(self.host, self.port)
        app = with_faults(build_app(self.server), self.faults, self.server.version.jsonrpc_error_code)
        self._serving.run(exact_date(app), date_header=False, proxy_headers=False)

    def stop(self) -> None:
        """Stop serving and close the database."""
        self._serving.stop()
        self.server.close()

    def wait(self) -> None:
        """Block until the server thread ends (the CLI waits here)."""
        self._serving.wait()

    def __enter__(self) -> OdooSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
