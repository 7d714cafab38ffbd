#!/usr/bin/env bash
# make-venv.sh DIR PYTHON REQUIREMENTS LOCK — create DIR if missing and install REQUIREMENTS pinned by LOCK.
set -euo pipefail
dir=$1 python=$2 requirements=$3 lock=$4
if [ ! -x "$dir/bin/python" ]; then
  echo "==> creating $dir with $("$python" --version 2>&1)"
  "$python" -m venv "$dir"
fi
echo "==> installing $requirements into $dir (pinned by $lock)"
"$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" -c "$lock" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
