#!/usr/bin/env bash
# lock.sh — regenerate requirements/app.lock, st.lock and test.lock after a change to app.in, st.in or test.in.
# One throwaway Python 3.11 venv (scripts/make-venv.sh) takes app.in, then st.in, then test.in, the order the
# Makefile installs them into .venv/app, and `pip freeze` after each step writes that step's lock. Each lock so
# holds every pin of the one before it (tests/test_requirements.py checks). Versions already pinned stay as
# they are: every step is constrained by the previous test.lock (the superset).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp requirements/test.lock "$work/previous.lock"
for step in app st test; do
  scripts/make-venv.sh "$work/venv" python3.11 "requirements/$step.in" "$work/previous.lock"
  # a local version label (torch 2.13.0+cpu, from a local wheel) is dropped: ==2.13.0 accepts that wheel and any index's
  "$work/venv/bin/pip" freeze --disable-pip-version-check | sed -E 's/^([^=]+==[^+]+)\+[A-Za-z0-9.]+$/\1/' > "$work/$step.lock"
done
for step in app st test; do
  mv "$work/$step.lock" "requirements/$step.lock"
done
echo "==> wrote requirements/app.lock, st.lock and test.lock"
