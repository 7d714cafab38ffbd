"""`make audit`: pip-audit over every pin of both runtimes; fails on any advisory not accepted in requirements/audit-accepted.txt.

pip-audit asks PyPI's JSON API for advisories. Where that API cannot be reached (an offline mirror that serves
only the simple index), no package can be audited: the report says so plainly and the target fails only when
AUDIT_REQUIRED=1, so that a CI with network access can insist on a real audit.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# Each runtime's test lock holds every pin of its runtime lock (and test.lock every pin of st.lock;
# tests/test_requirements.py): auditing those two covers all five.
LOCKS = [PROJECT / "requirements" / "test.lock", PROJECT / "requirements" / "rasa-test.lock"]
ACCEPTED = PROJECT / "requirements" / "audit-accepted.txt"
PIP_AUDIT = PROJECT / ".venv" / "app" / "bin" / "pip-audit"


def accepted_ids() -> set[str]:
    lines = ACCEPTED.read_text(encoding="utf-8").splitlines()
    return {line.split()[0] for line in lines if line.strip() and not line.startswith("#")}


def audit(lock: Path) -> dict:
    result = subprocess.run([str(PIP_AUDIT), "-r", str(lock), "--no-deps", "--disable-pip", "--progress-spinner",
                             "off", "-s", "pypi", "-f", "json"], capture_output=True, text=True, timeout=600)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise SystemExit(f"pip-audit failed on {lock.name}:\n{result.stderr[-2000:]}")


def main() -> int:
    accepted, findings, audited, unreachable = accepted_ids(), [], 0, 0
    for lock in LOCKS:
        for dependency in audit(lock)["dependencies"]:
            if "skip_reason" in dependency:
                unreachable += "not found" in dependency["skip_reason"]
                continue
            audited += 1
            for vulnerability in dependency.get("vulns", []):
                ids = {vulnerability["id"], *vulnerability.get("aliases", [])}
                if not ids & accepted:
                    findings.append(f"{dependency['name']} {dependency['version']}: {vulnerability['id']} "
                                    f"(fixed in {', '.join(vulnerability.get('fix_versions', [])) or 'no release'})")
    if not audited:
        print(f"audit: NOT performed — no advisory data reachable for any of {unreachable} pinned packages "
              f"(PyPI JSON API unreachable from this machine)")
        return 1 if os.environ.get("AUDIT_REQUIRED") == "1" else 0
    for finding in findings:
        print("audit: advisory not accepted:", finding)
    print(f"audit: {audited} packages audited, {len(findings)} advisories not accepted "
          f"({len(accepted)} accepted in {ACCEPTED.relative_to(PROJECT)})")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
