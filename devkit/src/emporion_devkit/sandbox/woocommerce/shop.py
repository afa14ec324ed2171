"""The shop core: create, read, update, delete, list and batch for every resource, and change events."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from emporion_devkit.sandbox.woocommerce.clock import Clock
from emporion_devkit.sandbox.woocommerce.errors import ApiError, invalid_param
from emporion_devkit.sandbox.woocommerce.resource import Filter, Resource, id_list, text_list
from emporion_devkit.sandbox.woocommerce.schema import clean
from emporion_devkit.sandbox.woocommerce.store import Store

WC_VERSION = "10.0.2"
WP_VERSION = "6.8.3"
BATCH_LIMIT = 100
PRODUCT_ONLY_FILTERS = ("type", "category", "featured", "stock_status", "slug", "parent_exclude")

# (resource topic, event, record id, kind)
Event = tuple[str, str, int, str]
Params = dict[str, list[str]]


def first(params: Params, name: str) -> str | None:
    """The first value of a query argument, or None."""
    values = params.get(name)
    return values[0] if values else None


def error_item(record_id: int, error: ApiError) -> dict[str, Any]:
    """A failed batch item the way WooCommerce reports it inside an HTTP 200."""
    return {
        "id": record_id,
        "error": {
            "code": error.code,
            "message": error.message,
            "data": {"status": error.status, **error.data},
        },
    }


def unstable_ties(offset: int) -> str:
    """An order among equal dates that changes with the page, as MariaDB's for `ORDER BY post_date LIMIT`.

    WordPress sorts products by date with no tie-breaker, so products created in one second come in a
    different order on every page: a date-ordered listing repeats some of them and skips others.
    """
    return f"((id * 2654435761 + {int(offset) * 40503 + 17}) % 1000003)"


class Shop:
    """All resources of one sandbox shop over one store; thread-safe, emits change events after commit."""

    def __init__(self, store: Store, clock: Clock | None = None, currency: str = "EUR") -> None:
        self.store = store
        self.clock = clock or Clock()
        self.currency = currency
        self.base_url = "http://127.0.0.1"
        self.resources: dict[str, Resource] = {}
        self.listeners: list[Callable[[list[Event]], None]] = []
        self._pending = threading.local()
        self._category_names: dict[int, dict[str, str]] | None = None

    @property
    def api_url(self) -> str:
        """The REST API root of the shop."""
        return self.base_url + "/wp-json/wc/v3"

    def register(self, resource: Resource) -> None:
        """Add a resource kind to the shop."""
        self.resources[resource.kind] = resource

    # -- transactions and events -------------------------------------------------------------------

    @contextmanager
    def operation(self) -> Iterator[None]:
        """One atomic write; the events it raised are handed to listeners after it commits."""
        outer = not hasattr(self._pending, "events")
        if outer:
            self._pending.events = []
        try:
            with self.store.transaction():
                yield
            if outer and self._pending.events:
                events = self._pending.events
                for listener in self.listeners:
                    listener(events)
        finally:
            if outer:
                del self._pending.events

    def emit(self, resource: Resource, before: dict | None, doc: dict | None, record_id: int) -> None:
        """Queue the webhook events of one write."""
        if resource.topic is None or not hasattr(self._pending, "events"):
            return
        for event in resource.events(before, doc):
            self._pending.events.append((resource.topic, event, record_id, resource.kind))

    # -- single records ----------------------------------------------------------------------------

    def load(self, kind: str, record_id: int, parent_id: int | None = None) -> tuple[dict, dict]:
        """The stored (document, extras) of one record, or the resource's 404."""
        resource = self.resources[kind]
        found = self.store.get(kind, record_id) if record_id > 0 else None
        if found is None or (parent_id is not None and found[1].get("parent", 0) != parent_id):
            raise resource.not_found()
        return found

    def check_parent(self, resource: Resource, parent_id: int) -> None:
        """404 unless the parent record of a nested resource exists."""
        if resource.parent_kind:
            self.load(resource.parent_kind, parent_id)

    def save(
        self, resource: Resource, before: dict | None, doc: dict, extra: dict, touch: bool = True
    ) -> None:
        """Store a document, run its side effects and queue its events."""
        if touch and resource.has_dates and "date_modified" in doc:
            self.clock.stamp(doc, "date_modified")
        self.store.put(resource.kind, doc["id"], doc, extra, resource.columns(doc, extra))
        resource.after_save(self, before, doc, extra)
        self.emit(resource, before, doc, doc["id"])

    def restamp(self, kind: str, record_id: int, gmt: datetime) -> None:
        """Give a record the modification stamp `gmt`, as a save that began then and committed now has.

        WordPress stamps a post when its request starts saving; a concurrent request can commit later, so
        a change may appear with a stamp older than the shop's clock. Emits nothing.
        """
        resource = self.resources[kind]
        doc, extra = self.load(kind, record_id)
        self.clock.stamp(doc, "date_modified", gmt)
        self.store.put(kind, record_id, doc, extra, resource.columns(doc, extra))

    def create(self, kind: str, data: dict, parent_id: int = 0, strict: bool = True) -> dict[str, Any]:
        """Create one record from a request body; the answer is its GET representation."""
        resource = self.resources[kind]
        with self.operation():
            if data.get("id"):
                raise ApiError(
                    400,
                    f"woocommerce_rest_{resource.label}_exists",
                    f"Cannot create existing {resource.label}.",
                )
            self.check_parent(resource, parent_id)
            values = clean(resource.fields, data, strict)
            resource.validate_new(self, values)
            record_id = self.store.next_id(kind)
            doc = resource.new(self, record_id, parent_id)
            extra: dict[str, Any] = {"parent": parent_id} if resource.parent_kind else {}
            if resource.has_dates:
                self.clock.stamp(doc, "date_created")
                if "date_modified" in doc:
                    self.clock.stamp(doc, "date_modified")
            resource.apply(self, doc, extra, values, creating=True)
            self.save(resource, None, doc, extra, touch=False)
            return resource.present(self, doc, extra)

    def update(
        self, kind: str, record_id: int, data: dict, parent_id: int | None = None, strict: bool = True
    ) -> dict:
        """Update one record from a request body; the answer is its GET representation."""
        resource = self.resources[kind]
        with self.operation():
            try:
                doc, extra = self.load(kind, record_id, parent_id if resource.parent_kind else None)
            except ApiError as error:
                if error.code == resource.id_code:
                    error.status = resource.update_missing_status
                raise
            values = clean(resource.fields, data, strict)
            before = dict(doc)
            resource.apply(self, doc, extra, values, creating=False)
            self.save(resource, before, doc, extra)
            return resource.present(self, doc, extra)

    def get(self, kind: str, record_id: int, parent_id: int | None = None) -> dict[str, Any]:
        """The GET representation of one record."""
        resource = self.resources[kind]
        doc, extra = self.load(kind, record_id, parent_id if resource.parent_kind else None)
        return resource.present(self, doc, extra)

    def delete(self, kind: str, record_id: int, force: bool, parent_id: int | None = None) -> dict[str, Any]:
        """Trash a record, or delete it for good with `force` (required where trashing is not supported)."""
        resource = self.resources[kind]
        with self.operation():
            doc, extra = self.load(kind, record_id, parent_id if resource.parent_kind else None)
            resource.delete_check(doc)
            if not force:
                if not resource.supports_trash:
                    raise ApiError(501, "woocommerce_rest_trash_not_supported", resource.trash_message)
                if doc.get("status") == "trash":
                    raise ApiError(
                        410,
                        "woocommerce_rest_already_trashed",
                        f"The {resource.label} has already been deleted.",
                    )
                before = dict(doc)
                extra["trashed_from"] = doc.get("status")
                doc["status"] = "trash"
                self.save(resource, before, doc, extra)
                return resource.present(self, doc, extra)
            answer = resource.present(self, doc, extra)
            self.store.remove(kind, record_id)
            resource.after_delete(self, doc, extra)
            if doc.get("status") != "trash":
                self.emit(resource, doc, None, record_id)
            return answer

    # -- collections -------------------------------------------------------------------------------

    def _integer(self, params: Params, name: str, default: int, low: int, high: int | None = None) -> int:
        raw = first(params, name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid_param(name, f"{name} is not of type integer.", "rest_invalid_type") from None
        if value < low or (high is not None and value > high):
            reason = (
                f"{name} must be between {low} (inclusive) and {high} (inclusive)"
                if high is not None
                else f"{name} must be greater than or equal to {low}"
            )
            raise invalid_param(name, reason, "rest_out_of_bounds")
        return value

    def _dates(self, resource: Resource, params: Params) -> list[Filter]:
        is_gmt = (first(params, "dates_are_gmt") or "").lower() in ("1", "true")
        out: list[Filter] = []
        for name, column, op in (
            ("after", "created_gmt", ">"),
            ("before", "created_gmt", "<"),
            ("modified_after", "modified_gmt", ">"),
            ("modified_before", "modified_gmt", "<"),
        ):
            value = first(params, name)
            if value:
                out.append((f"{column} {op} ?", [self.clock.gmt_string(value, name, is_gmt)]))
        return out

    def _status(self, resource: Resource, params: Params) -> list[Filter]:
        wanted = text_list(params.get("status", [])) or ["any"]
        if resource.statuses is not None:
            for status in wanted:
                if status not in resource.statuses and status not in ("any", "trash"):
                    listed = ", ".join(resource.statuses)
                    raise invalid_param("status", f"status is not one of {listed}.", "rest_not_in_enum")
        if "any" in wanted or "all" in wanted:
            return [("(status IS NULL OR status != 'trash')", [])] if resource.supports_trash else []
        return [(f"status IN ({', '.join('?' * len(wanted))})", wanted)]

    def list(
        self, kind: str, params: Params, parent_id: int = 0
    ) -> tuple[list[dict[str, Any]], int, int, int]:
        """One page of a collection: (items, total, page, per_page)."""
        resource = self.resources[kind]
        self.check_parent(resource, parent_id)
        page = self._integer(params, "page", 1, 1)
        per_page = self._integer(params, "per_page", 10, 1, 100) if resource.paged else 10**6
        offset_raw = first(params, "offset")
        offset = self._integer(params, "offset", 0, 0) if offset_raw else (page - 1) * per_page
        order = (first(params, "order") or resource.default_order).lower()
        if order not in ("asc", "desc"):
            raise invalid_param("order", "order is not one of asc and desc.", "rest_not_in_enum")
        orderby = first(params, "orderby") or resource.default_orderby
        if orderby not in resource.orderby:
            listed = ", ".join(resource.orderby)
            raise invalid_param("orderby", f"orderby is not one of {listed}.", "rest_not_in_enum")
        filters: list[Filter] = []
        if resource.parent_kind:
            filters.append(("parent_id = ?", [parent_id]))
        include = id_list("include", params.get("include", []))
        if include:
            filters.append((f"id IN ({', '.join('?' * len(include))})", include))
        exclude = id_list("exclude", params.get("exclude", []))
        if exclude:
            filters.append((f"id NOT IN ({', '.join('?' * len(exclude))})", exclude))
        search = first(params, "search")
        if search:
            filters.append(("name LIKE ?", [f"%{search}%"]))
        if resource.has_dates and resource.date_filters:
            filters += self._dates(resource, params)
        filters += self._status(resource, params)
        shared = list(filters)
        filters += resource.filters(self, params)
        column = resource.orderby[orderby]
        direction = order.upper()
        if orderby == "include" and include:
            cases = " ".join(
                f"WHEN {record_id} THEN {position}" for position, record_id in enumerate(include)
            )
            sort = f"CASE id {cases} END"  # WordPress keeps the include order whatever `order` says
        elif kind == "product" and orderby == "date":
            sort = f"{column} {direction}, {unstable_ties(offset)}"
        else:
            sort = f"{column} {direction}, id {direction}"
        where = [clause for clause, _ in filters]
        args = [arg for _, values in filters for arg in values]
        if kind == "product" and params.get("sku") and not any(params.get(n) for n in PRODUCT_ONLY_FILTERS):
            return self._products_and_variations(where, args, shared, params, sort, per_page, offset, page)
        rows, total = self.store.select(kind, where, args, sort, per_page, offset)
        return [resource.present(self, doc, extra) for doc, extra in rows], total, page, per_page

    def _products_and_variations(
        self,
        where: list[str],
        args: list[Any],
        shared: list[Filter],
        params: Params,
        sort: str,
        per_page: int,
        offset: int,
        page: int,
    ) -> tuple[list[dict[str, Any]], int, int, int]:
        """`/products?sku=...` also finds variations, as WooCommerce queries both post types then."""
        skus = text_list(params["sku"])
        variation_filters = [*shared, (f"sku IN ({', '.join('?' * len(skus))})", skus)]
        parents = id_list("parent", params.get("parent", []))
        if parents:
            variation_filters.append((f"parent_id IN ({', '.join('?' * len(parents))})", parents))
        parts = [
            ("product", where, args),
            (
                "variation",
                [c for c, _ in variation_filters],
                [a for _, values in variation_filters for a in values],
            ),
        ]
        rows, total = self.store.select_union(parts, sort, per_page, offset)
        variations = self.resources["variation"]
        items = [
            self.resources["product"].present(self, doc, extra)
            if kind == "product"
            else variations.as_product(self, doc, extra)  # type: ignore[attr-defined]
            for kind, doc, extra in rows
        ]
        return items, total, page, per_page

    @staticmethod
    def total_pages(total: int, per_page: int) -> int:
        """X-WP-TotalPages for a total and a page size."""
        return math.ceil(total / per_page) if per_page else 0

    # -- batch -------------------------------------------------------------------------------------

    def batch(self, kind: str, body: dict[str, Any], parent_id: int = 0) -> dict[str, list[dict[str, Any]]]:
        """WooCommerce's `batch`: create, update and delete in one request, failures reported per item."""
        sections = {name: body.get(name) or [] for name in ("create", "update", "delete")}
        if sum(len(items) for items in sections.values()) > BATCH_LIMIT:
            raise ApiError(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            )
        resource = self.resources[kind]
        answer: dict[str, list[dict[str, Any]]] = {}
        with self.operation():
            self.check_parent(resource, parent_id)
            if "create" in body:
                answer["create"] = [
                    self._batch_item(0, self.create, kind, item, parent_id) for item in sections["create"]
                ]
            if "update" in body:
                answer["update"] = [
                    self._batch_item(self._item_id(item), self._batch_update, kind, item, parent_id)
                    for item in sections["update"]
                ]
            if "delete" in body:
                answer["delete"] = [
                    self._batch_item(self._item_id(item), self._batch_delete, kind, item, parent_id)
                    for item in sections["delete"]
                ]
        return answer

    @staticmethod
    def _item_id(item: Any) -> int:
        value = item.get("id") if isinstance(item, dict) else item
        try:
            return int(value or 0)
        except (TypeError, ValueError):
            return 0

    def _batch_item(
        self, record_id: int, action: Callable[..., dict], kind: str, item: Any, parent_id: int
    ) -> dict:
        try:
            with self.store.savepoint():
                return action(kind, item if isinstance(item, dict) else {"id": item}, parent_id, strict=False)
        except ApiError as error:
            return error_item(record_id, error)

    def _batch_update(self, kind: str, item: dict, parent_id: int, strict: bool) -> dict:
        data = {key: value for key, value in item.items() if key != "id"}
        resource = self.resources[kind]
        return self.update(
            kind, self._item_id(item), data, parent_id if resource.parent_kind else None, strict
        )

    def _batch_delete(self, kind: str, item: dict, parent_id: int, strict: bool) -> dict:
        resource = self.resources[kind]
        return self.delete(kind, self._item_id(item), True, parent_id if resource.parent_kind else None)

    # -- shared helpers for resources --------------------------------------------------------------

    def merge_meta(self, current: list[dict], updates: list[Any]) -> list[dict]:
        """WooCommerce's meta_data update: match by id, then by key; new keys get new meta ids."""
        merged = [dict(entry) for entry in current]
        for entry in updates:
            if not isinstance(entry, dict) or ("key" not in entry and "id" not in entry):
                continue
            target = next((m for m in merged if "id" in entry and m["id"] == entry["id"]), None)
            if target is None and "key" in entry:
                target = next((m for m in merged if m["key"] == entry["key"]), None)
            if target is not None and entry.get("value") is None and "value" in entry:
                merged.remove(target)
            elif target is not None:
                target["value"] = entry.get("value")
            else:
                merged.append(
                    {"id": self.store.next_id("meta"), "key": str(entry["key"]), "value": entry.get("value")}
                )
        return merged

    def touch(self, kind: str, record_id: int) -> None:
        """Save a record unchanged so that its modification date moves and its `updated` event fires."""
        found = self.store.get(kind, record_id)
        if found is not None:
            doc, extra = found
            self.save(self.resources[kind], dict(doc), doc, extra)

    def category_names(self) -> dict[int, dict[str, str]]:
        """Current name and slug of every category (cached until a category changes)."""
        names = self._category_names
        if names is None:
            rows, _ = self.store.select("category", [], [], "id", 10**9, 0)
            names = {doc["id"]: {"name": doc["name"], "slug": doc["slug"]} for doc, _ in rows}
            self._category_names = names
        return names

    def forget_categories(self) -> None:
        """Drop the category name cache after a category write."""
        self._category_names = None
