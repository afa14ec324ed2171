"""The connector registry: which connection types exist, their settings, roles and factories.

Each `connectors/<system>/plugin.py` defines one `ConnectorPlugin` and names it in the
`emporion.connectors` entry point group (see `pyproject.toml`), so a third-party connector is a pip
package that does the same. Nothing outside a connector's folder knows its name: configuration,
JSON Schema, connection building and role checks all come from here.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from emporion.connectors.roles import Connection, Role
from emporion.connectors.settings import ConnectionSettings

ENTRY_POINT_GROUP = "emporion.connectors"


@dataclass(frozen=True)
class ConnectorPlugin:
    """One system: its `type` in the configuration, settings model, factory, roles and documentation."""

    type: str
    title: str
    settings: builtins.type[ConnectionSettings]
    factory: Callable[[str, ConnectionSettings], Connection]
    roles: frozenset[Role]
    docs: str = ""  # where a person reads how to set it up

    def build(self, name: str, settings: ConnectionSettings) -> Connection:
        """The connector of the connection `name`."""
        return self.factory(name, settings)


class RegistryError(Exception):
    """A plugin could not be loaded, or two plugins claim one type."""


_extra: dict[str, ConnectorPlugin] = {}


def register(plugin: ConnectorPlugin) -> None:
    """Add a plugin in this process (tests, embedding); entry points are the way for packages."""
    _extra[plugin.type] = plugin
    plugins.cache_clear()


def unregister(kind: str) -> None:
    """Forget a plugin added with `register` (tests clean up after themselves)."""
    if _extra.pop(kind, None) is not None:
        plugins.cache_clear()


@functools.cache
def plugins() -> dict[str, ConnectorPlugin]:
    """Every known plugin by type: the entry point group's, then those registered in this process."""
    found: dict[str, ConnectorPlugin] = {}
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            plugin = point.load()
        except Exception as error:  # a broken third-party package must say which one it is
            raise RegistryError(
                f"connector plugin {point.name!r} ({point.value}) failed to load: {error}"
            ) from error
        if callable(plugin) and not isinstance(plugin, ConnectorPlugin):
            plugin = plugin()
        if not isinstance(plugin, ConnectorPlugin):
            raise RegistryError(f"connector plugin {point.name!r} ({point.value}) is not a ConnectorPlugin")
        if plugin.type in found and found[plugin.type] is not plugin:
            raise RegistryError(f"connection type {plugin.type!r} is claimed by two plugins")
        found[plugin.type] = plugin
    return found | _extra


def plugin_for(settings: ConnectionSettings) -> ConnectorPlugin:
    """The plugin of a configured connection."""
    return plugins()[settings.type]


def build(name: str, settings: ConnectionSettings) -> Connection:
    """The connector of one configured connection."""
    return plugin_for(settings).build(name, settings)
