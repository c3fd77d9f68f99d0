"""Where an orchestrator's control API listens unless told otherwise, shared by its service settings, its client and
the ``dmg fn`` commands.

It imports nothing, so the command line can show these defaults in its help without loading the orchestrator.
"""

from __future__ import annotations

from typing import Final

DEFAULT_PORT: Final = 7421
DEFAULT_URL: Final = f"http://127.0.0.1:{DEFAULT_PORT}"
