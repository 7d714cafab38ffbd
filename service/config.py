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
    review_required: bool = False    # ADMIN_REVIEW_REQUIRED=1: a draft publishes after a second staff member approves
    users_path: Path | None = None   # accounts and sessions; default: next to the knowledge db
    cookie_secure: bool = True       # session cookie only over HTTPS (browsers treat 127.0.0.1 as secure)
    rasa_token: str = ""             # RASA_AUTH_TOKEN: the handoff queue reads and pauses conversations
    handoff_hours: str = "1-5 09:00-17:30"   # when agents answer (ISO weekdays, local time) or "always"
    handoff_timezone: str = "Asia/Shanghai"
    chat_proxy_token: str = ""  # shared with Rasa's web chat channel (bot.rest.WebChatInput)

    @property
    def users_db(self) -> Path:
        return self.users_path or self.db_path.parent / "users.db"

    @property
    def handoff_db(self) -> Path:
        return self.db_path.parent / "handoff.db"

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
            users_path=Path(os.environ["USERS_DB"]) if os.environ.get("USERS_DB") else var / "users.db",
            cookie_secure=os.environ.get("SESSION_COOKIE_SECURE", "1") != "0",
            rasa_token=os.environ.get("RASA_AUTH_TOKEN", ""),
            handoff_hours=os.environ.get("HANDOFF_HOURS", "1-5 09:00-17:30"),
            handoff_timezone=os.environ.get("HANDOFF_TIMEZONE", "Asia/Shanghai"),
            review_required=os.environ.get("ADMIN_REVIEW_REQUIRED", "0") == "1",
            chat_proxy_token=os.environ.get("CHAT_PROXY_TOKEN", ""),
        )
