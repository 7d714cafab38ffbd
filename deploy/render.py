"""Writes the run's Rasa endpoints and supervisord configuration from the environment.

`make run` (scripts/run.sh) and the end-to-end tests render both files into `<var>/run/`, so no file names
a port, host or store that the run does not use. Standard library only: it runs before any venv matters.

    python -m deploy.render                # writes var/run/endpoints.yml and var/run/supervisord.conf
    python -m deploy.render --shell        # the same, then prints RUN_CONF, LOG_DIR and the three URLs for sh
    python deploy/render.py --environment  # prints the environment every process runs with (the Makefile's)

This module owns the run's environment: runtime_environment() (offline, caches inside the project) is what
the Makefile exports, what supervisord gives each program, and what the e2e harness starts with; the ports,
hosts and stores come from RunConfig.from_env, whose defaults are the only ones (scripts/run.sh asks --shell).

Environment (defaults in brackets): RASA_PORT [5005], ACTIONS_PORT [5055], SERVICE_PORT [8000],
CHAT_PROXY_TOKEN [random per run], RASA_HOST / SERVICE_HOST [127.0.0.1] (the public entry points: put a TLS reverse proxy in front, or set
0.0.0.0), POLICY_VAR_DIR [var], STORE_PROFILE [sqlite | postgres-redis], POSTGRES_HOST [127.0.0.1],
POSTGRES_PORT [5432], POSTGRES_DB [rasa], POSTGRES_USER [postgres], POSTGRES_PASSWORD [], POSTGRES_LOGIN_DB [], REDIS_HOST
[127.0.0.1], REDIS_PORT [6379], REDIS_DB [1], TICKET_LOCK_LIFETIME [60], SANIC_WORKERS [1],
ACTION_TIMEOUT [3], RASA_AUTH_TOKEN [unset = Rasa's HTTP API off].

The action server always binds 127.0.0.1: it runs any action for any tracker it is sent, unauthenticated,
so only the Rasa server on the same host may reach it.
"""
from __future__ import annotations

import os
import secrets
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

PROJECT = Path(__file__).resolve().parent.parent
CACHE = PROJECT / ".cache"
LOOPBACK = "127.0.0.1"
PROFILES = ("sqlite", "postgres-redis")
# Every hop's deadline is shorter than the one above it: action ≤ 3 s < Rasa reply ≤ 4 s < web chat ≤ 5 s.
ACTION_TIMEOUT_S = 3.0


def runtime_environment() -> dict[str, str]:
    """What every process of the project runs with, whoever starts it: nothing reaches the network at run time
    (no telemetry, no model hub) and every cache stays in .cache/."""
    return {
        "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1", "MPLCONFIGDIR": str(CACHE / "matplotlib"), "KERAS_HOME": str(CACHE / "keras"),
        "RASA_CACHE_DIRECTORY": str(CACHE / "rasa"), "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        # jieba writes its dictionary cache to tempfile.gettempdir(): keep it out of the shared /tmp
        "TMPDIR": str(CACHE / "tmp"), "PYTHONPATH": str(PROJECT),
    }


@dataclass(frozen=True)
class RunConfig:
    var_dir: Path
    rasa_port: int = 5005
    actions_port: int = 5055
    service_port: int = 8000
    rasa_host: str = LOOPBACK
    service_host: str = LOOPBACK
    store_profile: str = "sqlite"
    postgres: dict = field(default_factory=dict)
    redis: dict = field(default_factory=dict)
    ticket_lock_lifetime: int = 60
    sanic_workers: int = 1
    action_timeout_s: float = ACTION_TIMEOUT_S
    rasa_auth_token: str = ""
    chat_proxy_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    model: Path = PROJECT / "models" / "policy-bot.tar.gz"
    credentials: Path = PROJECT / "credentials.yml"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "RunConfig":
        profile = env.get("STORE_PROFILE", "sqlite")
        if profile not in PROFILES:
            raise SystemExit(f"STORE_PROFILE must be one of {', '.join(PROFILES)}, got {profile!r}")
        return cls(
            var_dir=Path(env.get("POLICY_VAR_DIR") or PROJECT / "var"),
            rasa_port=_port(env, "RASA_PORT", 5005), actions_port=_port(env, "ACTIONS_PORT", 5055),
            service_port=_port(env, "SERVICE_PORT", 8000),
            rasa_host=env.get("RASA_HOST", LOOPBACK), service_host=env.get("SERVICE_HOST", LOOPBACK),
            store_profile=profile,
            postgres={"url": env.get("POSTGRES_HOST", LOOPBACK), "port": int(env.get("POSTGRES_PORT", "5432")),
                      "db": env.get("POSTGRES_DB", "rasa"), "username": env.get("POSTGRES_USER", "postgres"),
                      "password": env.get("POSTGRES_PASSWORD", ""),
                      # an existing database to log in to when POSTGRES_DB must first be created
                      "login_db": env.get("POSTGRES_LOGIN_DB", "")},
            redis={"url": env.get("REDIS_HOST", LOOPBACK), "port": int(env.get("REDIS_PORT", "6379")),
                   "db": int(env.get("REDIS_DB", "1"))},
            ticket_lock_lifetime=int(env.get("TICKET_LOCK_LIFETIME", "60")),
            sanic_workers=int(env.get("SANIC_WORKERS", "1")),
            action_timeout_s=float(env.get("ACTION_TIMEOUT", ACTION_TIMEOUT_S)),
            rasa_auth_token=env.get("RASA_AUTH_TOKEN", ""),
            chat_proxy_token=env.get("CHAT_PROXY_TOKEN") or secrets.token_urlsafe(32),
        )

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def tracker_db(self) -> Path:
        return self.var_dir / "rasa_tracker.db"

    @property
    def endpoints_path(self) -> Path:
        return self.run_dir / "endpoints.yml"

    @property
    def supervisord_conf_path(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "supervisor.sock"

    def log(self, program: str) -> Path:
        return self.log_dir / f"{program}.log"

    def url(self, program: str) -> str:
        port = {"rasa": self.rasa_port, "actions": self.actions_port, "service": self.service_port}[program]
        return f"http://{LOOPBACK}:{port}"


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"{name} must be a TCP port, got {raw!r}")
    return int(raw)


def _yaml_scalar(value) -> str:
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_block(name: str, values: dict) -> str:
    return f"{name}:\n" + "".join(f"  {key}: {_yaml_scalar(value)}\n" for key, value in values.items())


def endpoints_yaml(config: RunConfig) -> str:
    """Rasa's endpoints: the action server of this run, and the tracker / lock store of the profile."""
    parts = ["# Written by deploy/render.py from the environment; edit the environment, not this file.\n",
             _yaml_block("action_endpoint", {"url": f"{config.url('actions')}/webhook"})]
    # bot.tracker_store masks phone / ID / bank-card numbers before events are written.
    if config.store_profile == "sqlite":
        parts.append(_yaml_block("tracker_store", {"type": "bot.tracker_store.MaskingSQLTrackerStore",
                                                   "dialect": "sqlite", "db": str(config.tracker_db)}))
    else:
        postgres = {key: value for key, value in config.postgres.items() if value != ""}
        parts.append(_yaml_block("tracker_store", {"type": "bot.tracker_store.MaskingSQLTrackerStore",
                                                   "dialect": "postgresql", **postgres}))
        # bot.lock_store: Rasa's Redis lock store with atomic ticket operations (several replicas, one Redis)
        parts.append(_yaml_block("lock_store", {"type": "bot.lock_store.AtomicRedisLockStore",
                                                "key_prefix": "policybot", **config.redis}))
    return "".join(parts)


def _supervisor_env(values: Mapping[str, str]) -> str:
    # supervisord expands %(...)s in its config: a literal % must be doubled.
    return ",".join(f'{key}="{str(value).replace("%", "%%").replace(chr(34), "")}"' for key, value in values.items())


def program_commands(config: RunConfig) -> dict[str, list[str]]:
    app_python = str(PROJECT / ".venv/app/bin/python")
    rasa = [str(PROJECT / ".venv/rasa/bin/rasa"), "run", "--model", str(config.model),
            "--endpoints", str(config.endpoints_path), "--credentials", str(config.credentials),
            "--interface", config.rasa_host, "--port", str(config.rasa_port)]
    if config.rasa_auth_token:  # the HTTP API can replace the model and read every conversation
        rasa += ["--enable-api", "--auth-token", config.rasa_auth_token]
    return {
        "service": [app_python, "-m", "service", "--host", config.service_host, "--port", str(config.service_port)],
        "actions": [app_python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(config.actions_port)],
        "rasa": rasa,
    }


def program_environments(config: RunConfig, extra: Mapping[str, Mapping[str, str]] | None = None) -> dict:
    common = {**runtime_environment(), "POLICY_VAR_DIR": str(config.var_dir),
              "POLICY_SERVICE_URL": config.url("service"), "RASA_URL": config.url("rasa")}
    environments = {
        "service": {**common, "CHAT_PROXY_TOKEN": config.chat_proxy_token},
        "actions": {**common, "SANIC_HOST": LOOPBACK},  # rasa_sdk binds SANIC_HOST
        "rasa": {**common, "HOME": str(CACHE / "home"), "SANIC_WORKERS": str(config.sanic_workers),
                 "CHAT_PROXY_TOKEN": config.chat_proxy_token,
                 "TICKET_LOCK_LIFETIME": str(config.ticket_lock_lifetime),
                 "ACTION_TIMEOUT": str(config.action_timeout_s)},
    }
    for program, values in (extra or {}).items():
        environments[program].update(values)
    return environments


def supervisord_conf(config: RunConfig, extra_env: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """One supervisord for the three processes: a crashed process is restarted alone, the others keep running."""
    lines = [
        "; Written by deploy/render.py from the environment; edit the environment, not this file.",
        "[supervisord]", "nodaemon=true", f"logfile={config.log('supervisord')}",
        f"pidfile={config.run_dir / 'supervisord.pid'}", f"childlogdir={config.log_dir}",
        "umask=077",  # SQLite files, logs and sockets are readable by this user only
        "[unix_http_server]", f"file={config.socket_path}", "chmod=0700",
        "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "[supervisorctl]", f"serverurl=unix://{config.socket_path}",
    ]
    environments = program_environments(config, extra_env)
    for program, command in program_commands(config).items():
        lines += [
            f"[program:{program}]", f"command={shlex.join(command).replace('%', '%%')}", f"directory={PROJECT}",
            "autostart=true", "autorestart=true", "startsecs=1", "startretries=10",
            "stopasgroup=true", "killasgroup=true", "stopwaitsecs=20",
            f"stdout_logfile={config.log(program)}", "redirect_stderr=true",
            "stdout_logfile_maxbytes=20MB", "stdout_logfile_backups=3",
            f"environment={_supervisor_env(environments[program])}",
        ]
    return "\n".join(lines) + "\n"


def write(config: RunConfig, extra_env: Mapping[str, Mapping[str, str]] | None = None) -> RunConfig:
    for folder in (config.run_dir, config.log_dir):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
    for path, text in ((config.endpoints_path, endpoints_yaml(config)),
                       (config.supervisord_conf_path, supervisord_conf(config, extra_env))):
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)  # may hold the PostgreSQL password and the Rasa token
    return config


def main(args: list[str]) -> None:
    if args == ["--environment"]:
        print("\n".join(f"{name}={value}" for name, value in runtime_environment().items()))
        return
    config = write(RunConfig.from_env())
    if args == ["--shell"]:
        values = {"RUN_CONF": config.supervisord_conf_path, "LOG_DIR": config.log_dir,
                  **{f"{program.upper()}_URL": config.url(program) for program in ("service", "actions", "rasa")}}
        print("\n".join(f"{name}={shlex.quote(str(value))}" for name, value in values.items()))
        return
    print(config.supervisord_conf_path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
