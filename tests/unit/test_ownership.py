"""The field ownership decision table: every row, and the field split of a comparable view."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from emporion.config import Ownership
from emporion.engine.compare import comparable
from emporion.engine.ownership import decide, field_hash, field_hashes, field_values, write_fields
from emporion.model import Image, Product, Variant

OWNERSHIP = Ownership(
    default="erp",
    fields={"description": "shop", "images": "shop", "name": "either"},
    conflict_fields={"description": "report"},
)


def run(
    field: str, source: Any, target: Any, base: Any = None, *, first: bool = False, source_name: str = "erp"
) -> Any:
    """Decide one field of a flow `source_name` -> the other connection; `base` is the agreed value."""
    target_name = "shop" if source_name == "erp" else "erp"
    baseline = None if first else {field: field_hash(base)}
    return decide({field: source}, {field: target}, baseline, OWNERSHIP, source_name, target_name)


def test_equal_values_write_nothing_and_move_the_baseline() -> None:
    decision = run("list_price", "9.9", "9.9", "8.5")
    assert decision.write == frozenset() and decision.conflicts == ()
    assert decision.baseline == {"list_price": field_hash("9.9")}


def test_the_owner_edited_its_field_it_is_written() -> None:
    decision = run("list_price", "9.9", "8.5", "8.5")
    assert decision.write == {"list_price"} and decision.conflicts == ()
    assert decision.baseline["list_price"] == field_hash("9.9")


def test_the_target_edited_an_owned_field_revert_writes_it_back() -> None:
    decision = run("list_price", "8.5", "7.0", "8.5")
    assert decision.write == {"list_price"}
    (conflict,) = decision.conflicts
    assert (conflict.field, conflict.owner, conflict.policy, conflict.state) == (
        "list_price",
        "erp",
        "revert",
        "reverted",
    )
    assert (conflict.source_value, conflict.target_value) == ("8.5", "7.0")
    assert conflict.revert_here and not conflict.revert_partner
    assert decision.baseline["list_price"] == field_hash("8.5")


def test_the_target_edited_an_owned_field_report_leaves_it_open() -> None:
    decision = run("description", "ours", "theirs", "ours", source_name="shop")
    assert decision.write == frozenset()
    (conflict,) = decision.conflicts
    assert (conflict.state, conflict.policy, conflict.owner) == ("open", "report", "shop")
    assert decision.baseline["description"] == field_hash("ours")  # the old baseline is kept


def test_both_edited_the_owner_wins_and_revert_records_nothing() -> None:
    decision = run("list_price", "9.9", "7.0", "8.5")
    assert decision.write == {"list_price"} and decision.conflicts == ()


def test_both_edited_the_owner_wins_and_report_keeps_the_overwritten_value() -> None:
    decision = run("description", "new", "other", "old", source_name="shop")
    assert decision.write == {"description"}
    (conflict,) = decision.conflicts
    assert conflict.state == "reverted" and conflict.target_value == "other"
    assert decision.baseline["description"] == field_hash("new")


def test_first_match_the_owner_value_is_written() -> None:
    decision = run("list_price", "9.9", "8.5", first=True)
    assert decision.write == {"list_price"} and decision.conflicts == ()
    assert decision.baseline == {"list_price": field_hash("9.9")}


def test_a_field_the_target_owns_is_never_written_when_only_the_target_changed() -> None:
    decision = run("description", "old", "new", "old")
    assert decision.write == frozenset() and decision.conflicts == ()
    assert decision.baseline["description"] == field_hash("old")


def test_the_source_edited_a_field_it_does_not_own_revert_asks_the_partner() -> None:
    decision = run("list_price", "7.0", "8.5", "8.5", source_name="shop")
    assert decision.write == frozenset()
    (conflict,) = decision.conflicts
    assert conflict.revert_partner and not conflict.revert_here and conflict.state == "reverted"
    assert conflict.owner == "erp"


def test_the_source_edited_a_field_it_does_not_own_report_leaves_it_open() -> None:
    decision = run("description", "erp's", "shop's", "shop's")
    assert decision.write == frozenset()
    (conflict,) = decision.conflicts
    assert conflict.state == "open" and not conflict.revert_partner and conflict.owner == "shop"
    assert decision.baseline["description"] == field_hash("shop's")


def test_first_match_a_field_the_target_owns_waits_for_the_reverse_flow() -> None:
    decision = run("description", "erp's", "shop's", first=True)
    assert decision.write == frozenset() and decision.conflicts == ()
    assert "description" not in decision.baseline


def test_either_changed_on_the_source_only_is_written() -> None:
    decision = run("name", "Mug XL", "Mug", "Mug")
    assert decision.write == {"name"} and decision.conflicts == ()


def test_either_changed_on_the_target_only_is_left_to_the_reverse_flow() -> None:
    decision = run("name", "Mug", "Mug XL", "Mug")
    assert decision.write == frozenset() and decision.conflicts == ()
    assert decision.baseline["name"] == field_hash("Mug")


def test_either_changed_on_both_sides_is_an_open_conflict() -> None:
    decision = run("name", "Mug XL", "Big mug", "Mug")
    assert decision.write == frozenset()
    (conflict,) = decision.conflicts
    assert (conflict.owner, conflict.state) == ("either", "open")
    assert decision.baseline["name"] == field_hash("Mug")


def test_either_differing_on_first_match_is_an_open_conflict() -> None:
    decision = run("name", "Mug XL", "Big mug", first=True)
    assert decision.write == frozenset() and len(decision.conflicts) == 1
    assert decision.baseline == {}


@pytest.mark.parametrize(
    ("source_name", "source", "target", "base", "written"),
    [
        ("erp", "6", "4", "5", True),  # the owner's stock changed: written
        ("erp", "5", "4", "5", False),  # the shop sold some: not a conflict, not written
        ("shop", "4", "5", "5", False),  # the shop does not own stock: never written, never a conflict
    ],
)
def test_available_is_never_a_conflict(
    source_name: str, source: str, target: str, base: str, written: bool
) -> None:
    decision = run("available", source, target, base, source_name=source_name)
    assert decision.conflicts == ()
    assert decision.write == ({"available"} if written else frozenset())


def test_a_field_missing_from_the_baseline_counts_as_a_first_match() -> None:
    baseline = {"name": field_hash("Mug")}
    decision = decide(
        {"name": "Mug", "list_price": "9"},
        {"name": "Mug", "list_price": "8"},
        baseline,
        OWNERSHIP,
        "erp",
        "shop",
    )
    assert decision.write == {"list_price"} and decision.conflicts == ()


def test_field_values_fold_variants_custom_fields_and_published() -> None:
    product = Product(
        key="1",
        sku="TEE",
        name="Tee",
        description="soft",
        images=[Image(url="https://img/1.jpg")],
        custom={"season": "summer"},
        variants=[Variant(key="v", sku="TEE-S", list_price=Decimal("10.00"), custom={"season": "all"})],
    )
    values = field_values(comparable(product), "product")
    assert values["description"] == {"": "soft", "TEE-S": None}
    assert values["images"] == {"": ["https://img/1.jpg"], "TEE-S": []}
    assert values["custom.season"] == {"": "summer", "TEE-S": "all"}
    assert values["active"] == {"": True, "TEE-S": True}
    assert values["list_price"]["TEE-S"] == Decimal("10")
    assert not {"stock", "price_lists", "currency", "key", "salable"} & set(values)
    assert set(field_hashes(values)) == set(values)
    assert all(len(h) == 16 for h in field_hashes(values).values())


def test_numbers_hash_by_value() -> None:
    assert field_hash(Decimal("8.50")) == field_hash(Decimal("8.5"))
    assert field_hash(Decimal("8.50")) != field_hash(Decimal("8.51"))


def test_write_fields_name_the_record_fields() -> None:
    assert write_fields(frozenset({"custom.season", "active", "name"})) == {
        "custom",
        "active",
        "salable",
        "name",
    }
