#!/usr/bin/env bash
# Starts the three services under supervisord (a crashed process is restarted alone), waits until each
# answers, prints the URLs and where each log is; Ctrl-C stops everything.
set -uo pipefail
cd "$(dirname "$0")/.."
# Ports, hosts, stores and the environment of each program: deploy/render.py (from the environment, its defaults).
# The Rasa HTTP API can replace the model and read every conversation: only with a token. The handoff
# queue needs it (it reads transcripts and pauses the bot), so without RASA_AUTH_TOKEN each run makes one.
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  RASA_AUTH_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
fi
export RASA_AUTH_TOKEN
# writes the endpoints and supervisord.conf, then names them: RUN_CONF, LOG_DIR, SERVICE_URL, ACTIONS_URL, RASA_URL
rendered=$(.venv/app/bin/python -m deploy.render --shell) || exit 1
eval "$rendered"
conf=$RUN_CONF logs=$LOG_DIR

.venv/app/bin/supervisord -c "$conf" &
supervisor=$!
stop_all() {
  trap - INT TERM EXIT
  echo; echo "stopping services..."
  kill -TERM "$supervisor" 2>/dev/null; wait "$supervisor" 2>/dev/null
  echo "all services stopped"
  exit 0
}
trap stop_all INT TERM EXIT

scripts/wait-ready.sh "$SERVICE_URL/healthz" "policy service" \
  && scripts/wait-ready.sh "$ACTIONS_URL/health" "action server" \
  && scripts/wait-ready.sh "$RASA_URL/webhooks/rest/" "rasa server (loading the model takes ~50 s)" \
  || { echo "a service failed to start; see $logs/*.log"; exit 1; }

cat <<MSG

灵活就业政策助手 is up (supervised: a process that dies is restarted on its own):
  web chat        $SERVICE_URL/
  agent console   $SERVICE_URL/console   (first account: python -m service.users add NAME --role admin)
  knowledge API   $SERVICE_URL/api/search?q=%E5%88%9B%E4%B8%9A%E6%8B%85%E4%BF%9D%E8%B4%B7%E6%AC%BE  (q=创业担保贷款)
  Rasa REST       $RASA_URL/webhooks/rest/webhook
  action server   $ACTIONS_URL/health  (loopback only: reachable from Rasa, not from outside)
Logs:
  policy service  $logs/service.log
  action server   $logs/actions.log
  rasa server     $logs/rasa.log
  supervisord     $logs/supervisord.log   (status: .venv/app/bin/supervisorctl -c $conf status)
Press Ctrl-C to stop all three.
MSG
wait "$supervisor"
echo "supervisord exited; see $logs/supervisord.log"
exit 1
