#!/usr/bin/env bash
# The demo: topics, a webhook receiver standing in for responders, one worker in the
# background, sample traffic (valid reports, app retries, bad payloads), then what was
# accepted, dead-lettered and why, and which escalations reached which responder.
#   demo.sh        run it (the broker must be up: `make demo` starts it)
#   demo.sh stop   stop the demo's worker and receiver
set -euo pipefail
cd "$(dirname "$0")/../.."

STATE="${XDG_CACHE_HOME:-$HOME/.cache}/gridwatch/demo"
PIDFILE="$STATE/worker.pid"
LOG="$STATE/worker.log"
PORT="${GRID_WEB_PORT:-6066}"
RECEIVER_PIDFILE="$STATE/receiver.pid"
RECEIVER_LOG="$STATE/receiver.log"
RECEIVER_PORT="${GRIDWATCH_RECEIVER_PORT:-8085}"
BIN=.venv/bin
mkdir -p "$STATE"

worker_alive() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
receiver_alive() { [[ -f "$RECEIVER_PIDFILE" ]] && kill -0 "$(cat "$RECEIVER_PIDFILE")" 2>/dev/null; }

metric() {  # metric NAME -> the sum of its samples on the worker's /metrics (0 when absent)
  curl -sf "http://127.0.0.1:$PORT/metrics" |
    awk -v m="$1" 'index($1, m) == 1 && substr($1, length(m) + 1, 1) ~ /^[{]?$/ {s += $NF} END {print int(s)}'
}

if [[ "${1:-}" == "stop" ]]; then
  if worker_alive; then kill -TERM "$(cat "$PIDFILE")"; echo "demo worker stopped"; fi
  if receiver_alive; then kill -TERM "$(cat "$RECEIVER_PIDFILE")"; echo "demo receiver stopped"; fi
  rm -f "$PIDFILE" "$RECEIVER_PIDFILE"
  exit 0
fi

echo "== topics"
$BIN/gridwatch topics create

echo "== webhook receiver for every responder (log: $RECEIVER_LOG)"
if receiver_alive; then
  echo "already running, pid $(cat "$RECEIVER_PIDFILE")"
else
  setsid nohup $BIN/gridwatch receiver --port "$RECEIVER_PORT" >"$RECEIVER_LOG" 2>&1 &
  echo $! >"$RECEIVER_PIDFILE"
fi

echo "== worker (log: $LOG)"
if worker_alive; then
  echo "already running, pid $(cat "$PIDFILE")"
else
  GRID_ESCALATION__WEBHOOK_BASE_URL="http://127.0.0.1:$RECEIVER_PORT" \
    setsid nohup $BIN/gridwatch worker --web-port "$PORT" >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
fi
for _ in $(seq 1 60); do
  grep -q "Worker ready\|\[\^Worker\]: Ready" "$LOG" 2>/dev/null && break
  worker_alive || { echo "worker died; last lines of $LOG:"; tail -30 "$LOG"; exit 1; }
  sleep 1
done

echo "== sample traffic"
sample="$STATE/sample.jsonl"
$BIN/gridwatch sample --out "$sample" --prefix "demo-$(date +%Y%m%d%H%M%S)" --recent
before=$(metric grid_reports_received_total)
$BIN/gridwatch publish "$sample"
expected=$((before + $(grep -c . "$sample")))
for _ in $(seq 1 60); do  # intake has read everything, and triage has caught up with it
  [[ "$(metric grid_reports_received_total)" -ge "$expected" ]] &&
    [[ "$(metric grid_reports_triaged_total)" -ge "$(metric grid_reports_accepted_total)" ]] && break
  sleep 1
done

echo "== what the worker counted (http://127.0.0.1:$PORT/metrics)"
curl -sf "http://127.0.0.1:$PORT/metrics" | grep -E '^grid_reports_(received|accepted|duplicate|rekeyed|invalid|triaged)_total' || true

echo "== accepted (grid.reports.accepted)"
$BIN/gridwatch accepted count

echo "== findings (grid.findings)"
$BIN/gridwatch findings count

echo "== dead letters (grid.reports.dlq), first 6 of them"
$BIN/gridwatch dlq show --limit 6

echo "== escalations delivered to responders (the receiver's log; fraud first)"
for _ in $(seq 1 20); do [[ "$(metric grid_notifications_total)" -gt 0 ]] && break; sleep 1; done
sleep 2
grep -E "TELECOM_FRAUD|anti_fraud|bank" "$RECEIVER_LOG" | head -6 || true
echo "deliveries by target:"
grep 'delivery=' "$RECEIVER_LOG" | awk '{print $1}' | sort | uniq -c | sort -rn || true
esc=$(grep -o 'esc-[0-9]*-[0-9a-f]*' "$RECEIVER_LOG" | head -1 || true)

cat <<MSG

Where to look:
  wall screen    http://127.0.0.1:$PORT/live#token=gridwatch-dev-token
  counters       curl -H 'Authorization: Bearer gridwatch-dev-token' 'http://127.0.0.1:$PORT/counters?grain=hour'
  metrics        http://127.0.0.1:$PORT/metrics
  worker log     $LOG
  deliveries     $RECEIVER_LOG (the reference receiver: one line per webhook)
  an escalation  curl -H 'Authorization: Bearer gridwatch-dev-token' http://127.0.0.1:$PORT/escalations/${esc:-ID}
  acknowledge    curl -X POST -H 'Authorization: Bearer gridwatch-dev-token' -d '{"by":"me"}' http://127.0.0.1:$PORT/escalations/${esc:-ID}/ack
  on call        .venv/bin/gridwatch responder --role police
  dead letters   .venv/bin/gridwatch dlq show
  accepted       .venv/bin/gridwatch accepted count
  findings       .venv/bin/gridwatch findings count
Stop the worker, the receiver and the broker: make demo-stop
MSG
