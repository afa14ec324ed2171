"""`OdooServer`: the sandbox's state (SQLite store, version, model logic) and both protocols' entry points."""

from __future__ import annotations

from typing import Any

from emporion_devkit.sandbox.odoo import access, accounting, partners, products, sales, stock
from emporion_devkit.sandbox.odoo.app import bearer_key, decode_image
from emporion_devkit.sandbox.odoo.errors import AccessDenied, NotFound, OdooError, Unauthorized
from emporion_devkit.sandbox.odoo.methods import GENERIC, dispatch, find
from emporion_devkit.sandbox.odoo.orm import Env, Registry
from emporion_devkit.sandbox.odoo.store import Store
from emporion_devkit.sandbox.odoo.versions import Personality, personality

SUPERUSER = 1


class DatabaseMissing(OdooError):
    """psycopg2's OperationalError for a database that does not exist."""

    name = "psycopg2.OperationalError"
    status = 500


def make_registry() -> Registry:
    """The model logic of every module the sandbox plays (product, stock, sale, account, access)."""
    registry = Registry()
    for module in (products, partners, stock, sales, accounting, access):
        module.register(registry)
    return registry


class OdooServer:
    """One Odoo database served by the sandbox: what both protocols call into."""

    def __init__(self, path: str, version: int, database: str) -> None:
        self.store = Store(path)
        self.version: Personality = personality(version)
        self.registry = make_registry()
        self.database = database

    def env(self, uid: int = SUPERUSER, context: dict[str, Any] | None = None, su: bool = False) -> Env:
        """An environment for a user (the superuser bypasses access checks)."""
        return Env(self.store, self.version, self.registry, uid, context, su or uid == SUPERUSER)

    def version_dict(self) -> dict[str, Any]:
        """`common.version` as Odoo answers it."""
        return {
            "server_version": self.version.serie,
            "server_version_info": self.version.version_info,
            "server_serie": self.version.serie,
            "protocol_version": 1,
        }

    def rpc(self, service: str | None, method: str | None, args: list[Any]) -> Any:
        """One JSON-RPC call (`/jsonrpc`): the common, db and object services."""
        if service == "common" and method == "version":
            return self.version_dict()
        if service == "common" and method in ("login", "authenticate"):
            self._database(args[0] if args else None)
            try:
                with self.store.transaction():
                    return access.authenticate(self.env(), str(args[1]), str(args[2]))
            except AccessDenied:
                return False
        if service == "db" and method == "list":
            return [self.database]
        if service == "db" and method == "server_version":
            return self.version.serie
        if service == "object" and method in ("execute_kw", "execute"):
            return self._execute(method, args)
        raise NotFound(f"404: Not Found (no method {method!r} on service {service!r})")

    def _database(self, name: Any) -> None:
        if name != self.database:
            raise DatabaseMissing(f'connection to server failed: FATAL:  database "{name}" does not exist')

    def _execute(self, method: str, args: list[Any]) -> Any:
        if len(args) < 5:
            raise OdooError(f"{method}() missing required positional arguments")
        database, uid, password, model, name, *rest = args
        self._database(database)
        with self.store.transaction():
            if not isinstance(uid, int) or not self._password_ok(uid, str(password)):
                raise AccessDenied()
            if method == "execute_kw":
                positional = list(rest[0]) if rest else []
                kwargs = dict(rest[1]) if len(rest) > 1 and rest[1] else {}
            else:
                positional, kwargs = list(rest), {}
            context = kwargs.pop("context", None) or {}
            env = self.env(uid, context, su=False)
            target = find(env, model, name)
            ids: list[Any] | None = None
            if target.on_records:
                first = positional.pop(0) if positional else kwargs.pop("ids", [])
                ids = [first] if isinstance(first, int | str) else list(first or [])
            return dispatch(env, model, name, ids, positional, kwargs)

    def _password_ok(self, uid: int, password: str) -> bool:
        user = self.store.get("res.users", uid)
        if user is None or not user.get("active", True):
            return False
        if user.get("password_hash") == access.hash_key(password):
            return True
        return access.user_by_key(self.env(), password) == uid

    def json2(
        self, authorization: str, database: str | None, model: str, method: str, body: dict[str, Any]
    ) -> Any:
        """One JSON-2 call: bearer key, optional database header, named arguments, the bare result."""
        key = bearer_key(authorization)
        if database is not None and database != self.database:
            raise NotFound(f"database {database!r} not found")
        with self.store.transaction():
            uid = access.user_by_key(self.env(), key)
            if uid is None:
                raise Unauthorized("Invalid apikey")
            params = dict(body)
            ids = params.pop("ids", None)
            context = params.pop("context", None) or {}
            env = self.env(uid, context, su=False)
            if method in GENERIC and method == "create" and "vals_list" not in params and "vals" in params:
                params["vals_list"] = params.pop("vals")
            return dispatch(env, model, method, list(ids) if ids else None, [], params, json2=True)

    def image(self, model: str, record_id: int, field: str) -> bytes | None:
        """The bytes of a stored image (what `/web/image/<model>/<id>/<field>` serves)."""
        with self.store.transaction():
            record = self.store.get(model, record_id)
            if record is None:
                return None
            if model == "product.product" and not record.get(field):
                record = self.store.get("product.template", record.get("product_tmpl_id") or 0) or {}
            return decode_image(record.get(field))

    def close(self) -> None:
        """Close the store."""
        self.store.close()
