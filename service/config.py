"""Service settings, all from the environment with embedded defaults (SQLite file, local index, offline encoder)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    db_path: Path
    index_dir: Path
    encoder: str | None
    rasa_url: str
    staff_token: str
    parameters_dir: Path = PROJECT_ROOT / "knowledge" / "parameters"
    rules_path: Path = PROJECT_ROOT / "knowledge" / "rules.yaml"  # seed of the store's rules (first start)

    @classmethod
    def from_env(cls) -> "Settings":
        var = Path(os.environ.get("POLICY_VAR_DIR", PROJECT_ROOT / "var"))
        return cls(
            db_path=Path(os.environ.get("KNOWLEDGE_DB", var / "knowledge.db")),
            index_dir=Path(os.environ.get("KNOWLEDGE_INDEX_DIR", var / "index")),
            encoder=os.environ.get("KNOWLEDGE_ENCODER") or None,
            rasa_url=os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            staff_token=os.environ.get("STAFF_TOKEN", ""),
            parameters_dir=Path(os.environ.get("KNOWLEDGE_PARAMETERS_DIR", PROJECT_ROOT / "knowledge" / "parameters")),
        )
