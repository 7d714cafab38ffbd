#!/usr/bin/env bash
# Prints a Python 3.10 interpreter for the Rasa runtime (Rasa 3.6 supports Python <= 3.10).
# Order: $PYTHON310, python3.10 on PATH, pyenv's newest 3.10.
set -u
is_310() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
candidates=("${PYTHON310:-}" "$(command -v python3.10 || true)")
if command -v pyenv >/dev/null 2>&1; then
  latest=$(pyenv latest 3.10 2>/dev/null || true)
  [ -n "$latest" ] && candidates+=("$(pyenv prefix "$latest")/bin/python")
fi
for c in "${candidates[@]}"; do
  if is_310 "$c"; then echo "$c"; exit 0; fi
done
echo "error: Python 3.10 not found (Rasa 3.6.21 needs Python <= 3.10)." >&2
echo "  Install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv'," >&2
echo "  or point PYTHON310=/path/to/python3.10 at one." >&2
exit 1
