"""requirements/: runtime and test dependencies are split, and each lock pins what its file installs.

app.in/app.lock and rasa.in/rasa.lock are what a production install takes; test.in/test.lock and
rasa-test.in/rasa-test.lock are installed on top of them (Makefile), so each test lock must keep every pin
of its runtime's lock unchanged and pin every test tool.
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


@pytest.mark.parametrize("runtime, tools", [("app", "test"), ("rasa", "rasa-test")])
def test_each_test_lock_keeps_its_runtimes_pins_and_pins_everything_it_installs(runtime, tools):
    runtime_pins, tool_pins = pins(REQUIREMENTS / f"{runtime}.lock"), pins(REQUIREMENTS / f"{tools}.lock")
    assert {name: tool_pins.get(name) for name in runtime_pins} == runtime_pins
    assert requirement_names(REQUIREMENTS / f"{runtime}.in") <= set(runtime_pins)
    assert requirement_names(REQUIREMENTS / f"{tools}.in") <= set(tool_pins)


def test_no_test_tool_is_a_runtime_dependency():
    for runtime in ("app", "rasa"):
        assert not TEST_TOOLS & requirement_names(REQUIREMENTS / f"{runtime}.in")
        assert not TEST_TOOLS & set(pins(REQUIREMENTS / f"{runtime}.lock"))


def test_the_new_tools_are_pinned_as_required():
    tool_pins = pins(REQUIREMENTS / "test.lock")
    assert (tool_pins["pytest-randomly"], tool_pins["ruff"], tool_pins["mypy"]) == ("3.16.0", "0.8.4", "1.13.0")
