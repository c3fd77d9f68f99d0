"""The registry domain: verification, atomic commits, reads, events and the transparency log over a store.

:class:`~dmg.registry.registry.Registry` is the entry point; the policies it takes are in :mod:`.policies`.
"""

from dmg.registry.operator import OPERATOR_KEY_FILE, default_origin, load_operator_key
from dmg.registry.registry import Registry

__all__ = ["OPERATOR_KEY_FILE", "Registry", "default_origin", "load_operator_key"]
