"""Starts the three real services on free ports for end-to-end tests (once per test session)."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parents[2]
MODEL = PROJECT / "models" / "policy-bot.tar.gz"
READY_TIMEOUT_S = 420


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Services:
    workdir: Path
    extra_env: dict = field(default_factory=dict)
    extra_credentials: str = ""
    actions_env: dict = field(default_factory=dict)  # only for the action server (e.g. a policy proxy)
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    service_port: int = field(default_factory=free_port)
    processes: list = field(default_factory=list)
    staff_token: str = field(default_factory=lambda: secrets.token_hex(16))
    rasa_token: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def staff_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.staff_token}"}

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service_port}"

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    def user_texts(self, sender: str) -> list[str]:
        """User messages of `sender` as persisted in Rasa's SQLite tracker store."""
        if not self.tracker_db.exists():
            return []
        with sqlite3.connect(f"file:{self.tracker_db}?mode=ro", uri=True) as connection:
            rows = connection.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'",
                                      (sender,)).fetchall()
        return [json.loads(data).get("text") for (data,) in rows]

    def events(self, sender: str) -> list[tuple[str, dict]]:
        """(type, event) of every event of `sender` in Rasa's SQLite tracker store, in order."""
        if not self.tracker_db.exists():
            return []
        with sqlite3.connect(f"file:{self.tracker_db}?mode=ro", uri=True) as connection:
            rows = connection.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id",
                                      (sender,)).fetchall()
        return [(kind, json.loads(data)) for kind, data in rows]

    def bot_said_after(self, sender: str, text: str) -> list[str] | None:
        """What the bot (or an agent) said after the user's last message `text` (None if not logged yet)."""
        events = self.events(sender)
        last = max((i for i, (kind, event) in enumerate(events) if kind == "user" and event.get("text") == text),
                   default=None)
        if last is None:
            return None
        return [event.get("text") for kind, event in events[last + 1:] if kind == "bot" and event.get("text")]

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def env(self) -> dict:
        cache = PROJECT / ".cache"
        env = dict(os.environ)
        env.update({
            "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "MPLCONFIGDIR": str(cache / "matplotlib"),
            "KERAS_HOME": str(cache / "keras"), "RASA_CACHE_DIRECTORY": str(cache / "rasa"),
            "TMPDIR": str(cache / "tmp"), "PYTHONPATH": str(PROJECT),
            "POLICY_VAR_DIR": str(self.workdir / "var"), "POLICY_SERVICE_URL": self.service_url,
            "RASA_URL": self.rasa_url, "STAFF_TOKEN": self.staff_token, "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_AUTH_TOKEN": self.rasa_token, "HANDOFF_HOURS": "always",
        })
        env.update(self.extra_env)
        return env

    def write_rasa_config(self) -> tuple[Path, Path]:
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "{self.actions_url}/webhook"\n'
            f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{self.workdir / "tracker.db"}"\n'
        )
        credentials = self.workdir / "credentials.yml"
        credentials.write_text("bot.rest.GuardedRestInput:\n" + self.extra_credentials)
        return endpoints, credentials

    def _start(self, name: str, command: list[str], env: dict) -> None:
        log = open(self.workdir / f"{name}.log", "wb")
        process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append((name, process, log))

    def start(self) -> "Services":
        assert MODEL.exists(), "train the model first: make train"
        env = self.env()
        endpoints, credentials = self.write_rasa_config()
        app_python = str(PROJECT / ".venv/app/bin/python")
        self._start("service", [app_python, "-m", "service", "--port", str(self.service_port)], env)
        self._start("actions", [app_python, "-m", "rasa_sdk", "--actions", "actions",
                                "--port", str(self.actions_port)], {**env, **self.actions_env})
        self._start("rasa", [str(PROJECT / ".venv/rasa/bin/rasa"), "run", "--model", str(MODEL),
                             "--endpoints", str(endpoints), "--credentials", str(credentials),
                             "--port", str(self.rasa_port), "--enable-api", "--auth-token", self.rasa_token],
                    {**env, "HOME": str(PROJECT / ".cache/home")})
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        checks = [(f"{self.service_url}/healthz", "service"), (f"{self.actions_url}/health", "actions"),
                  (f"{self.rasa_url}/webhooks/rest/", "rasa")]
        deadline = time.monotonic() + READY_TIMEOUT_S
        for url, name in checks:
            while True:
                self.raise_if_exited()
                try:
                    if requests.get(url, timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready after {READY_TIMEOUT_S}s:\n{self.log_tail(name)}")
                time.sleep(1)

    def raise_if_exited(self) -> None:
        for name, process, _ in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for _, process, log in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process, log in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            log.close()

    def add_user(self, username: str, role: str) -> tuple[str, dict]:
        """A console account in the running service's users database: its password and bearer headers."""
        from service.users import UserStore
        users = UserStore(self.workdir / "var" / "users.db")
        password = secrets.token_urlsafe(12)
        users.add(username, password, role)
        return password, {"Authorization": f"Bearer {users.issue_token(username)}"}

    def say(self, sender: str, message: str, timeout: float = 30) -> list[dict]:
        response = requests.post(f"{self.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": message}, timeout=timeout)
        response.raise_for_status()
        return response.json()


def reply_text(messages: list[dict]) -> str:
    return "\n".join(message.get("text", "") for message in messages if message.get("text"))
