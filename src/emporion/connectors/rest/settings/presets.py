"""Shipped descriptions of well-known shops (`preset: <name>`): a YAML file each in `rest/presets/`,
merged under the configuration's own keys, so that a merchant names the preset and gives only the URL
and credentials."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import yaml

FOLDER = files("emporion.connectors.rest").joinpath("presets")


def names() -> list[str]:
    """The presets shipped with the project."""
    folder = FOLDER
    return sorted(
        entry.name.removesuffix(".yaml") for entry in folder.iterdir() if entry.name.endswith(".yaml")
    )


def load(name: str) -> dict[str, Any]:
    """The preset `name` as a mapping; an unknown name is a ValueError listing those that exist."""
    if name not in names():
        raise ValueError(f"no preset {name!r} (there are: {', '.join(names()) or 'none'})")
    data = yaml.safe_load(FOLDER.joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"preset {name!r} is not a mapping")
    return data


def merge(base: Any, top: Any) -> Any:
    """`top` over `base`: mappings merge key by key (recursively), anything else in `top` replaces."""
    if isinstance(base, dict) and isinstance(top, dict):
        return {
            key: merge(base[key], top[key]) if key in base and key in top else top.get(key, base.get(key))
            for key in {**base, **top}
        }
    return top


def with_preset(data: Any) -> Any:
    """A connection's settings with its preset (if it names one) underneath (a `mode="before"` validator)."""
    if not isinstance(data, dict) or not data.get("preset"):
        return data
    preset = load(str(data["preset"]))
    preset.pop("type", None)
    return merge(preset, data)
