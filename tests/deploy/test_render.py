"""deploy/render.py: the run's endpoints and supervisord configuration come from the environment."""
import configparser
import shlex
import subprocess
import sys

from deploy.render import PROJECT, RunConfig, endpoints_yaml, program_environments, runtime_environment, supervisord_conf


def config(tmp_path, **env):
    return RunConfig.from_env({"POLICY_VAR_DIR": str(tmp_path), **env})


def test_endpoints_name_the_action_server_of_this_run_only(tmp_path):
    text = endpoints_yaml(config(tmp_path, ACTIONS_PORT="6123"))
    assert 'url: "http://127.0.0.1:6123/webhook"' in text
    assert "5055" not in text


def test_default_profile_is_embedded_sqlite_with_masking(tmp_path):
    text = endpoints_yaml(config(tmp_path))
    assert "bot.tracker_store.MaskingSQLTrackerStore" in text and 'dialect: "sqlite"' in text
    assert str(tmp_path / "rasa_tracker.db") in text and "lock_store" not in text


def test_scale_out_profile_is_postgresql_and_redis(tmp_path):
    text = endpoints_yaml(config(tmp_path, STORE_PROFILE="postgres-redis", POSTGRES_DB="bots",
                                 POSTGRES_PORT="5433", REDIS_PORT="6380"))
    assert 'dialect: "postgresql"' in text and 'db: "bots"' in text and "port: 5433" in text
    assert 'type: "bot.lock_store.AtomicRedisLockStore"' in text and "port: 6380" in text
    assert "password" not in text  # no empty password line for trust auth


def test_supervisord_runs_three_programs_restarting_each_alone(tmp_path):
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(supervisord_conf(config(tmp_path, SERVICE_PORT="8123")))
    programs = [section for section in parsed.sections() if section.startswith("program:")]
    assert programs == ["program:service", "program:actions", "program:rasa"]
    for section in programs:
        assert parsed[section]["autorestart"] == "true"
        assert parsed[section]["stdout_logfile"].startswith(str(tmp_path / "log"))
    assert "--port 8123" in parsed["program:service"]["command"]
    assert 'SANIC_HOST="127.0.0.1"' in parsed["program:actions"]["environment"]
    assert "--interface 127.0.0.1" in parsed["program:rasa"]["command"]
    assert parsed["supervisord"]["umask"] == "077"


def test_web_chat_proxy_token_is_shared_by_service_and_rasa_only(tmp_path):
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(supervisord_conf(config(tmp_path, CHAT_PROXY_TOKEN="s3cret")))
    assert 'CHAT_PROXY_TOKEN="s3cret"' in parsed["program:service"]["environment"]
    assert 'CHAT_PROXY_TOKEN="s3cret"' in parsed["program:rasa"]["environment"]
    assert "CHAT_PROXY_TOKEN" not in parsed["program:actions"]["environment"]


def test_every_program_runs_with_the_one_runtime_environment(tmp_path):
    for program, environment in program_environments(config(tmp_path)).items():
        assert runtime_environment().items() <= environment.items(), program
    assert runtime_environment()["HF_HUB_OFFLINE"] == "1" and runtime_environment()["TMPDIR"].startswith(str(PROJECT))


def test_the_makefile_exports_what_render_prints_and_repeats_none_of_it():
    printed = subprocess.run([sys.executable, str(PROJECT / "deploy" / "render.py"), "--environment"],
                             capture_output=True, text=True, check=True).stdout.split()
    assert printed == [f"{name}={value}" for name, value in runtime_environment().items()]
    makefile = (PROJECT / "Makefile").read_text(encoding="utf-8")
    assert "deploy/render.py --environment" in makefile
    assert not any(f"export {name}" in makefile for name in runtime_environment())


def test_the_run_script_asks_render_for_its_urls(tmp_path):
    printed = subprocess.run([sys.executable, "-m", "deploy.render", "--shell"], cwd=PROJECT, capture_output=True,
                             text=True, check=True, env={"POLICY_VAR_DIR": str(tmp_path), "SERVICE_PORT": "8612"}).stdout
    values = dict(line.split("=", 1) for line in printed.splitlines())
    assert shlex.split(values["SERVICE_URL"]) == ["http://127.0.0.1:8612"]
    assert shlex.split(values["RUN_CONF"]) == [str(tmp_path / "run" / "supervisord.conf")]
    assert (tmp_path / "run" / "supervisord.conf").exists()
