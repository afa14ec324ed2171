"""The test kit: an in-memory connector that plays every role, and the contract every connector passes.

`emporion.testing.memory` holds `MemoryConnector` (configured as `type: memory`) and
`emporion.testing.system` the in-memory systems it talks to; `emporion.testing.contract` is the
suite a connector's tests subclass (it needs pytest).
"""

from emporion.testing.memory import PLUGIN, MemoryConnection, MemoryConnector
from emporion.testing.system import MemorySystem, forget_systems, system

__all__ = ["PLUGIN", "MemoryConnection", "MemoryConnector", "MemorySystem", "forget_systems", "system"]
