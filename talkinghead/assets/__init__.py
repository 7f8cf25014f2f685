"""Bundled demo assets (see ASSETS.md beside this file for where they come from and their licences)."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent
DEMO_PORTRAIT = ASSETS / "portrait.png"
DEMO_SPEECH = ASSETS / "speech.flac"
DEMO_TRANSCRIPT = (ASSETS / "speech.txt").read_text().strip()
