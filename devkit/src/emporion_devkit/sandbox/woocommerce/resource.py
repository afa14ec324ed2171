"""The shape every REST resource shares: fields, defaults, index columns, filters, links and hooks."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any, ClassVar

from emporion_devkit.sandbox.woocommerce import templates
from emporion_devkit.sandbox.woocommerce.errors import ApiError, invalid_param
from emporion_devkit.sandbox.woocommerce.schema import FieldSpec

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop

Filter = tuple[str, list[Any]]
ALLOW = ["GET", "POST", "PUT", "PATCH", "DELETE"]  # WordPress 6.7+ `targetHints` of a record's self link


def slugify(text: str) -> str:
    """WordPress' `sanitize_title` in short: no tags, no entities, lower case ASCII words and hyphens."""
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);", "", text)
    text = text.replace("ß", "s").replace("æ", "ae").replace("ø", "o").replace("Æ", "AE").replace("Ø", "O")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def id_list(name: str, values: list[str]) -> list[int]:
    """A list of ids from `a=1,2` or `a[]=1&a[]=2` query arguments."""
    out: list[int] = []
    for value in values:
        for part in str(value).split(","):
            if part.strip():
                if not part.strip().isdigit():
                    raise invalid_param(name, f"{name}[0] is not of type integer.", "rest_invalid_type")
                out.append(int(part))
    return out


def text_list(values: list[str]) -> list[str]:
    """A list of strings from comma-separated or repeated query arguments."""
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


class Resource:
    """One REST resource kind; subclasses fill in the fields and the behaviour that is theirs."""

    kind: ClassVar[str]
    route: ClassVar[str]  # collection route below /wp-json/wc/v3, "{parent}" for nested resources
    parent_kind: ClassVar[str | None] = None
    topic: ClassVar[str | None] = None  # webhook resource name
    label: ClassVar[str] = "resource"
    id_code: ClassVar[str] = "woocommerce_rest_invalid_id"
    id_message: ClassVar[str] = "Invalid ID."
    update_missing_status: ClassVar[int] = 404  # the status of an update of an unknown id
    supports_trash: ClassVar[bool] = False
    has_dates: ClassVar[bool] = True
    date_filters: ClassVar[bool] = True  # lists take after/before/modified_after/modified_before
    trash_message: ClassVar[str] = "Resource does not support trashing."
    paged: ClassVar[bool] = True
    editable: ClassVar[bool] = True  # has update and batch routes
    fields: ClassVar[dict[str, FieldSpec]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    statuses: ClassVar[tuple[str, ...] | None] = None
    orderby: ClassVar[dict[str, str]] = {
        "date": "created_gmt",
        "id": "id",
        "include": "id",
        "title": "name",
        "slug": "slug",
        "modified": "modified_gmt",
    }
    default_orderby: ClassVar[str] = "date"
    default_order: ClassVar[str] = "desc"

    def new(self, shop: Shop, record_id: int, parent_id: int) -> dict[str, Any]:
        """A default document for a new record."""
        doc = templates.fresh(self.kind)
        doc["id"] = record_id
        return doc

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write the checked request fields into the document and derive the dependent fields."""
        for name, value in data.items():
            if name in doc:
                doc[name] = value

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """The index columns stored next to the document."""
        return {
            "parent_id": extra.get("parent", doc.get("parent_id", 0)),
            "status": doc.get("status"),
            "name": doc.get("name"),
            "created_gmt": doc.get("date_created_gmt"),
            "modified_gmt": doc.get("date_modified_gmt"),
        }

    def collection_path(self, parent_id: int) -> str:
        """The collection path below /wp-json/wc/v3/."""
        return self.route.replace("{parent}", str(parent_id))

    def links(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """WordPress' `_links` of one record."""
        base = shop.api_url + "/" + self.collection_path(extra.get("parent", 0))
        self_link = {"href": f"{base}/{doc['id']}", "targetHints": {"allow": ALLOW}}
        links: dict[str, Any] = {"self": [self_link], "collection": [{"href": base}]}
        if self.parent_kind:
            parent = self.collection_path(extra.get("parent", 0)).rsplit("/", 1)[0]
            links["up"] = [{"href": f"{shop.api_url}/{parent}"}]
        return links

    def present(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """The GET representation of one record (its local dates in the site's current time zone)."""
        out = dict(doc)
        shop.clock.localize(out)
        out["_links"] = self.links(shop, doc, extra)
        return out

    def filters(self, shop: Shop, params: dict[str, list[str]]) -> list[Filter]:
        """SQL filters for this kind's own list arguments (the shared ones are handled by the shop)."""
        return []

    def validate_new(self, shop: Shop, data: dict) -> None:
        """Check a create request beyond field types (required fields, uniqueness)."""
        for name in self.required:
            if name not in data or data[name] in ("", None):
                raise ApiError(
                    400, "rest_missing_callback_param", f"Missing parameter(s): {name}", params=[name]
                )

    def after_save(self, shop: Shop, before: dict | None, doc: dict, extra: dict) -> None:
        """Side effects of a write (stock, parents, counters); runs inside the write's transaction."""

    def delete_check(self, doc: dict) -> None:
        """Refuse the deletion of this record (WooCommerce's permission check), or pass."""

    def after_delete(self, shop: Shop, doc: dict, extra: dict) -> None:
        """Side effects of a permanent delete; runs inside the delete's transaction."""

    def events(self, before: dict | None, doc: dict | None) -> list[str]:
        """Webhook events of a write: created, updated, deleted or restored."""
        if before is None:
            return ["created"]
        if doc is None:
            return ["deleted"]
        if before.get("status") != "trash" and doc.get("status") == "trash":
            return ["deleted"]
        if before.get("status") == "trash" and doc.get("status") != "trash":
            return ["restored", "updated"]
        return ["updated"]

    def not_found(self) -> ApiError:
        """The 404 for an unknown id of this kind."""
        return ApiError(404, self.id_code, self.id_message)
