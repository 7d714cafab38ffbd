#!/usr/bin/env bash
# wait-ready.sh URL NAME [TIMEOUT_S] — poll URL until it answers 200, printing progress.
url=$1 name=$2 timeout=${3:-300}
start=$SECONDS
printf "waiting for %s " "$name"
until curl -fsS -o /dev/null "$url" 2>/dev/null; do
  if (( SECONDS - start > timeout )); then echo " gave up after ${timeout}s"; exit 1; fi
  printf "."; sleep 2
  (( (SECONDS - start) % 10 == 0 )) && printf "%ss" $((SECONDS - start))
done
echo " ready ($((SECONDS - start))s)"
