#!/usr/bin/env bash
# Starts the three services, waits until each answers, prints the URLs; Ctrl-C stops all three.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${RASA_PORT:=5005}" "${ACTIONS_PORT:=5055}" "${SERVICE_PORT:=8000}"
export POLICY_SERVICE_URL="http://127.0.0.1:${SERVICE_PORT}"
export RASA_URL="http://127.0.0.1:${RASA_PORT}"
mkdir -p var/log
pids=()

start() {  # start NAME LOGFILE COMMAND...
  local name=$1 log=$2; shift 2
  setsid "$@" >"$log" 2>&1 &
  pids+=($!)
  echo "started $name (pid $!, log $log)"
}

stop_all() {
  trap - INT TERM EXIT
  echo; echo "stopping services..."
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  echo "all services stopped"
  exit 0
}
trap stop_all INT TERM EXIT

# The Rasa HTTP API can replace the model and read every conversation: only with a token. The handoff
# queue needs it (it reads transcripts and pauses the bot), so without RASA_AUTH_TOKEN each run makes one.
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  RASA_AUTH_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
fi
export RASA_AUTH_TOKEN
rasa_api=(--enable-api --auth-token "$RASA_AUTH_TOKEN")

start "policy service" var/log/service.log .venv/app/bin/python -m service --port "$SERVICE_PORT"
start "action server" var/log/actions.log .venv/app/bin/python -m rasa_sdk --actions actions --port "$ACTIONS_PORT"
start "rasa server" var/log/rasa.log env HOME="$PWD/.cache/home" .venv/rasa/bin/rasa run \
  --model models/policy-bot.tar.gz --endpoints endpoints.yml --credentials credentials.yml \
  --port "$RASA_PORT" "${rasa_api[@]}"

scripts/wait-ready.sh "http://127.0.0.1:${SERVICE_PORT}/healthz" "policy service" \
  && scripts/wait-ready.sh "http://127.0.0.1:${ACTIONS_PORT}/health" "action server" \
  && scripts/wait-ready.sh "http://127.0.0.1:${RASA_PORT}/webhooks/rest/" "rasa server (loading the model takes ~50 s)" \
  || { echo "a service failed to start; see var/log/*.log"; exit 1; }

cat <<MSG

灵活就业政策助手 is up:
  web chat        http://127.0.0.1:${SERVICE_PORT}/
  agent console   http://127.0.0.1:${SERVICE_PORT}/console   (first account: python -m service.users add NAME --role admin)
  knowledge API   http://127.0.0.1:${SERVICE_PORT}/api/search?q=%E5%88%9B%E4%B8%9A%E6%8B%85%E4%BF%9D%E8%B4%B7%E6%AC%BE  (q=创业担保贷款)
  Rasa REST       http://127.0.0.1:${RASA_PORT}/webhooks/rest/webhook
  action server   http://127.0.0.1:${ACTIONS_PORT}/health
Logs in var/log/. Press Ctrl-C to stop all three.
MSG
wait -n "${pids[@]}"
echo "a service exited unexpectedly; see var/log/*.log"
exit 1
