"""Starts the three real services on free ports for end-to-end tests (once per test session)."""
from __future__ import annotations

import dataclasses
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

from deploy import render
from deploy.render import RunConfig

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
    chat_proxy_token: str = field(default_factory=lambda: secrets.token_hex(16))
    run_options: dict = field(default_factory=dict)  # other RunConfig fields, e.g. the store profile

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
        return self.var_dir / "rasa_tracker.db"

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

    def lines_while_held(self, sender: str) -> list[tuple[str, str]]:
        """("user", text) and ("bot", author: the agent's name, or "bot") of the events between an agent's
        pause (claim) and the resume, from Rasa's tracker store."""
        events = self.events(sender)
        kinds = [kind for kind, _ in events]
        start = kinds.index("pause")
        end = kinds.index("resume", start)
        return [("user", event.get("text")) if kind == "user" else ("bot", (event.get("metadata") or {}).get("agent", "bot"))
                for kind, event in events[start + 1:end] if kind in ("user", "bot")]

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

    @property
    def var_dir(self) -> Path:
        return self.workdir / "var"

    def run_config(self) -> RunConfig:
        return RunConfig(var_dir=self.var_dir, rasa_port=self.rasa_port, actions_port=self.actions_port,
                         service_port=self.service_port, chat_proxy_token=self.chat_proxy_token,
                         rasa_auth_token=self.rasa_token,
                         credentials=self.workdir / "credentials.yml", **self.run_options)

    def env(self) -> dict:
        """The harness's own settings over the project's runtime environment (deploy/render.py owns it)."""
        env = {**os.environ, **render.runtime_environment()}
        env.update({"STAFF_TOKEN": self.staff_token, "RASA_AUTH_TOKEN": self.rasa_token, "HANDOFF_HOURS": "always"})
        env.update(self.extra_env)
        return env

    def start(self) -> "Services":
        """The production process model: deploy/render.py's configuration under one supervisord."""
        assert MODEL.exists(), "train the model first: make train"
        (self.workdir / "credentials.yml").write_text(
            "bot.rest.GuardedRestInput:\nbot.rest.WebChatInput:\n" + self.extra_credentials)
        self.config = render.write(self.run_config(), extra_env={"actions": self.actions_env})
        log = open(self.workdir / "supervisord.out", "wb")
        process = subprocess.Popen([str(PROJECT / ".venv/app/bin/supervisord"), "-c",
                                    str(self.config.supervisord_conf_path)],
                                   cwd=PROJECT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(("supervisord", process, log))
        self.wait_ready()
        return self

    def wait_ready(self, programs=("service", "actions", "rasa")) -> None:
        checks = {"service": f"{self.service_url}/healthz", "actions": f"{self.actions_url}/health",
                  "rasa": f"{self.rasa_url}/webhooks/rest/"}
        deadline = time.monotonic() + READY_TIMEOUT_S
        for name in programs:
            while True:
                self.raise_if_exited()
                try:
                    if requests.get(checks[name], timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready after {READY_TIMEOUT_S}s:\n{self.log_tail(name)}")
                time.sleep(1)

    def raise_if_exited(self) -> None:
        for name, process, _ in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail('supervisord')}")

    def log_path(self, name: str) -> Path:
        return self.var_dir / "log" / f"{name}.log"

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_path(name)
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def supervisorctl(self, *args: str) -> str:
        return subprocess.run([str(PROJECT / ".venv/app/bin/supervisorctl"), "-c",
                               str(self.config.supervisord_conf_path), *args],
                              capture_output=True, text=True, timeout=30).stdout.strip()

    def pid(self, program: str) -> int:
        """The current process id of `program` (service, actions or rasa) as supervisord knows it."""
        return int(self.supervisorctl("pid", program))

    def start_rasa_replica(self, port: int) -> str:
        """Another Rasa server over the same endpoints (tracker and lock store) on `port`; returns its URL."""
        replica = dataclasses.replace(self.config, rasa_port=port)
        log = open(self.workdir / f"rasa-{port}.log", "wb")
        environment = {**self.env(), **render.program_environments(replica)["rasa"]}
        process = subprocess.Popen(render.program_commands(replica)["rasa"], cwd=PROJECT, env=environment,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append((f"rasa-{port}", process, log))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _answers(f"{url}/webhooks/rest/"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"replica on {port} did not start:\n{(self.workdir / f'rasa-{port}.log').read_text()}")
            time.sleep(1)
        return url

    def stop(self) -> None:
        for _, process, _ in self.processes:
            if process.poll() is None:  # supervisord stops its programs, then exits
                process.send_signal(signal.SIGTERM)
        for _, process, log in self.processes:
            try:
                process.wait(timeout=60)
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


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def reply_text(messages: list[dict]) -> str:
    return "\n".join(message.get("text", "") for message in messages if message.get("text"))
