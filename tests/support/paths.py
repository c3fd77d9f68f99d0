"""Where things are in this checkout: :data:`ROOT`, and :data:`FIXTURES`, the data the tests read."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
