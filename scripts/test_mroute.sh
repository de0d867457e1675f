#!/usr/bin/env bash
# mroute API smoke test: the original's test_mroute.sh, against a running
# controller.
#
#   scripts/test_mroute.sh [BASE_URL]
#
# BASE_URL: the first argument, else $MROUTE_URL, else http://localhost:8080.
# $MROUTE_API_KEY, when set, is sent as X-API-Key.  UDP ports for the test
# flows are picked free on this host unless $MROUTE_SMOKE_PORT (the first of
# four consecutive ones) is set; the controller must run on this host for
# the live part (a UDP sender on 127.0.0.1).
#
# Covers what the original's script covered, without external media tools
# beyond ffmpeg (the live part is skipped, and said so, when ffmpeg is
# missing): health; flow create, get, list; outputs add, update, remove;
# sources add, remove (the last one refused); SRT encryption validation;
# MERGE validation; monitor configuration and maintenance window persisted;
# start, live UDP transport (ffmpeg sends, the metrics count packets in and
# out), metrics fields, monitoring endpoints, flow and global events,
# stop, double stop, delete, the events gone with the flow;
# Cache-Control on answers.  Each request is checked for its status code and
# its JSON.  Exits 0 when every check passed, 1 otherwise (2 on bad usage).
# Needs curl and python3 only.

set -u

BASE=${1:-${MROUTE_URL:-http://localhost:8080}}
BASE=${BASE%/}
CURL_MAX_TIME=${CURL_MAX_TIME:-15}

command -v curl >/dev/null || { echo "test_mroute.sh: curl is needed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "test_mroute.sh: python3 is needed" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mroute-smoke.XXXXXX")
SENDER_PID=
FLOW_IDS=()
cleanup() {
  [ -n "$SENDER_PID" ] && kill "$SENDER_PID" 2>/dev/null && wait "$SENDER_PID" 2>/dev/null
  for id in "${FLOW_IDS[@]}"; do
    curl -s -o /dev/null --max-time 5 "${AUTH[@]}" -X DELETE "$BASE/v1/flows/$id"
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

AUTH=()
[ -n "${MROUTE_API_KEY:-}" ] && AUTH=(-H "X-API-Key: $MROUTE_API_KEY")

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1" >&2; }

# req METHOD PATH [BODY]: the body goes to $TMP/body, the headers to
# $TMP/headers, the status to $STATUS
STATUS=000
req() {
  local method=$1 path=$2 body=${3-}
  local args=(-s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' --max-time "$CURL_MAX_TIME"
    "${AUTH[@]}" -X "$method")
  if [ -n "$body" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  STATUS=$(curl "${args[@]}" "$BASE$path") || STATUS=000
}

# check NAME WANT_STATUS [PYTHON_EXPR]: the status is WANT_STATUS and the
# expression is true of `j`, the answer's parsed JSON
check() {
  local name=$1 want=$2 expr=${3-}
  if [ "$STATUS" != "$want" ]; then
    fail "$name: status $STATUS, want $want: $(head -c 300 "$TMP/body" 2>/dev/null)"
    return 1
  fi
  if [ -n "$expr" ] && ! python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$TMP/body" "$expr" 2>"$TMP/pyerr"; then
    fail "$name: not true of the answer: $expr: $(head -c 300 "$TMP/body") $(tail -n 1 "$TMP/pyerr")"
    return 1
  fi
  pass "$name"
}

# json EXPR: prints the value of EXPR on the last answer
json() {
  python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$TMP/body" "$1"
}

# the envelope of every 4xx: an "error" string
ENVELOPE='isinstance(j.get("error"), str) and j["error"] != ""'

free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
n = int(sys.argv[1])
for _ in range(200):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    base = s.getsockname()[1]
    s.close()
    if base + n >= 65535:
        continue
    socks = []
    try:
        for p in range(base, base + n):
            t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(t)
            t.bind(("0.0.0.0", p))
    except OSError:
        continue
    finally:
        for t in socks:
            t.close()
    print(base)
    sys.exit(0)
sys.exit(1)
EOF
}

if [ -n "${MROUTE_SMOKE_PORT:-}" ]; then
  P=$MROUTE_SMOKE_PORT
else
  P=$(free_ports 4) || { echo "test_mroute.sh: no free UDP ports" >&2; exit 2; }
fi
IN_PORT=$P
BACKUP_PORT=$((P + 1))
OUT_PORT=$((P + 2))
OUT2_PORT=$((P + 3))

echo "# mroute smoke test against $BASE (UDP ports $P-$((P + 3)))"

# -- health ------------------------------------------------------------------
req GET /health
check "GET /health" 200 'j["status"] == "ok" and isinstance(j["total_flows"], int) and isinstance(j["active_flows"], int)'
grep -qi '^cache-control: *no-store' "$TMP/headers" && pass "Cache-Control: no-store on /health" \
  || fail "Cache-Control: no-store missing on /health"

# -- flow CRUD ---------------------------------------------------------------
BODY=$(cat <<EOF
{"name": "smoke test flow",
 "source": {"name": "primary", "protocol": "udp", "ingest_port": $IN_PORT},
 "outputs": [{"name": "out1", "protocol": "udp", "destination": "127.0.0.1", "port": $OUT_PORT}],
 "source_monitor_config": {"thumbnail_enabled": false, "content_quality_enabled": false},
 "maintenance_window": {"day_of_week": "sunday", "start_hour": 3}}
EOF
)
req POST /v1/flows "$BODY"
if ! check "POST /v1/flows" 201 'j["id"].startswith("flow_") and j["status"] == "STANDBY" and j["source"]["name"] == "primary" and len(j["outputs"]) == 1'; then
  echo "cannot go on without a flow" >&2
  exit 1
fi
FLOW=$(json 'j["id"]')
FLOW_IDS+=("$FLOW")
check "maintenance window stored capitalised" 201 'j["maintenance_window"] == {"day_of_week": "Sunday", "start_hour": 3}'
check "source monitor config stored" 201 'j["source_monitor_config"]["thumbnail_enabled"] is False and j["source_monitor_config"]["content_quality_enabled"] is False'

req GET "/v1/flows/$FLOW"
check "GET /v1/flows/{id}" 200 "j['id'] == '$FLOW' and j['name'] == 'smoke test flow'"
grep -qi '^cache-control: *no-store' "$TMP/headers" && pass "Cache-Control: no-store on a flow" \
  || fail "Cache-Control: no-store missing on a flow"

req GET /v1/flows
check "GET /v1/flows lists it" 200 "'$FLOW' in [f['id'] for f in j['flows']]"

req GET /v1/flows/flow_doesnotexist
check "GET an unknown flow is 404" 404 "$ENVELOPE"

req POST /v1/flows '{"name": "broken", "source": {"name": "x"}}'
check "a source without protocol is 400" 400 "$ENVELOPE"

req POST /v1/flows 'this is not json'
check "a body that is not JSON is 400" 400 "$ENVELOPE"

# -- outputs -----------------------------------------------------------------
req POST "/v1/flows/$FLOW/outputs" "{\"name\": \"out2\", \"protocol\": \"udp\", \"destination\": \"127.0.0.1\", \"port\": $OUT2_PORT}"
check "add an output" 201 '[o["name"] for o in j["outputs"]] == ["out1", "out2"]'
req PUT "/v1/flows/$FLOW/outputs/out2" '{"description": "second"}'
check "update an output (partial)" 200 "[o.get('description') for o in j['outputs'] if o['name'] == 'out2'] == ['second'] and [o['port'] for o in j['outputs'] if o['name'] == 'out2'] == [$OUT2_PORT]"
req DELETE "/v1/flows/$FLOW/outputs/out2"
check "remove an output" 200 '[o["name"] for o in j["outputs"]] == ["out1"]'
req DELETE "/v1/flows/$FLOW/outputs/nosuch"
check "remove an unknown output is 404" 404 "$ENVELOPE"

# -- sources -----------------------------------------------------------------
req POST "/v1/flows/$FLOW/source" "{\"name\": \"backup\", \"protocol\": \"udp\", \"ingest_port\": $BACKUP_PORT}"
check "add a source" 201 '[s["name"] for s in j["sources"]] == ["primary", "backup"]'
req POST "/v1/flows/$FLOW/source" '{"name": "third", "protocol": "udp", "ingest_port": 9}'
check "a third source is 400" 400 "$ENVELOPE"
req DELETE "/v1/flows/$FLOW/source/backup"
check "remove a source" 200 '[s["name"] for s in j["sources"]] == ["primary"]'
req DELETE "/v1/flows/$FLOW/source/primary"
check "removing the last source is 400" 400 "$ENVELOPE"

# -- validation: SRT encryption, MERGE ----------------------------------------
req POST /v1/flows '{"name": "enc", "source": {"name": "s", "protocol": "srt-listener", "ingest_port": 9000, "decryption": {"algorithm": "aes256", "passphrase": "short"}}}'
check "SRT passphrase under 10 characters is 400" 400 "$ENVELOPE"
req POST /v1/flows '{"name": "enc", "source": {"name": "s", "protocol": "srt-listener", "ingest_port": 9000, "decryption": {"algorithm": "des", "passphrase": "long enough passphrase"}}}'
check "SRT unknown algorithm is 400" 400 "$ENVELOPE"
req POST /v1/flows '{"name": "enc ok", "source": {"name": "s", "protocol": "srt-listener", "ingest_port": 9000, "decryption": {"algorithm": "aes256", "passphrase": "long enough passphrase"}}, "outputs": [{"name": "o", "protocol": "srt-caller", "destination": "127.0.0.1", "port": 9001, "encryption": {"algorithm": "aes128", "passphrase": "another good one"}}]}'
if check "SRT encryption accepted, passphrases not returned" 201 'j["source"]["decryption"] == {"algorithm": "aes256"} and j["outputs"][0]["encryption"] == {"algorithm": "aes128"} and "passphrase" not in json.dumps(j)'; then
  FLOW_IDS+=("$(json 'j["id"]')")
fi
req POST /v1/flows '{"name": "merge bad", "sources": [{"name": "a", "protocol": "rtp", "ingest_port": 9002}, {"name": "b", "protocol": "udp", "ingest_port": 9004}], "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE"}}'
check "MERGE with a non-RTP source is 400" 400 "$ENVELOPE"
req POST /v1/flows '{"name": "merge one", "source": {"name": "a", "protocol": "rtp", "ingest_port": 9002}, "source_failover_config": {"state": "ENABLED", "failover_mode": "MERGE"}}'
if check "MERGE with one RTP source is accepted" 201 'j["source_failover_config"]["failover_mode"] == "MERGE"'; then
  FLOW_IDS+=("$(json 'j["id"]')")
fi

# -- monitoring while stopped --------------------------------------------------
req GET "/v1/flows/$FLOW/metadata"
check "metadata of a stopped flow is 409" 409 "$ENVELOPE"
req GET "/v1/flows/$FLOW/thumbnail"
check "thumbnail with thumbnails off is 409" 409 "$ENVELOPE"
req GET "/v1/flows/$FLOW/content-quality"
check "content quality when off is 409" 409 "$ENVELOPE"

# -- start, live transport, metrics, events ------------------------------------
req POST "/v1/flows/$FLOW/start"
check "start" 200 'j["status"] in ("STARTING", "ACTIVE")'
req POST "/v1/flows/$FLOW/start"
check "start again is 409" 409 "$ENVELOPE"

if command -v ffmpeg >/dev/null; then
  ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=25 -t 6 \
    -c:v mpeg2video -b:v 1M -f mpegts "udp://127.0.0.1:$IN_PORT?pkt_size=1316" \
    >"$TMP/ffmpeg.log" 2>&1 &
  SENDER_PID=$!
  GOT=
  for _ in $(seq 1 40); do
    sleep 0.25
    req GET "/v1/flows/$FLOW/metrics"
    if [ "$STATUS" = 200 ] && [ "$(json 'j["source_metrics"][0]["packets_received"] > 0 and j["output_metrics"][0]["packets_sent"] > 0')" = True ]; then
      GOT=1
      break
    fi
  done
  check "live UDP: packets in and out" 200 'j["status"] == "ACTIVE" and j["source_metrics"][0]["packets_received"] > 0 and j["source_metrics"][0]["bytes_received"] > 0 and j["output_metrics"][0]["packets_sent"] > 0 and j["source_metrics"][0]["connected"] is True'
  [ -n "$GOT" ] || echo "# (no packets seen within 10 s; ffmpeg: $(tail -c 300 "$TMP/ffmpeg.log"))" >&2
  for _ in $(seq 1 40); do
    req GET "/v1/flows/$FLOW/metadata"
    [ "$STATUS" = 200 ] && break
    sleep 0.25
  done
  check "metadata of the live flow" 200 '[s["codec"] for s in j["streams"] if s["stream_type"] == "video"] == ["mpeg2video"]'
else
  echo "# ffmpeg not found: live UDP transport not checked"
fi

req GET "/v1/flows/$FLOW/metrics"
check "metrics fields" 200 "j['flow_id'] == '$FLOW' and j['status'] in ('STARTING', 'ACTIVE') and isinstance(j['uptime_seconds'], int) and j['failover_count'] == 0 and j['merge_active'] is False and all(k in j['source_metrics'][0] for k in ('name', 'status', 'connected', 'bitrate_kbps', 'packets_received', 'packets_lost', 'packets_recovered', 'round_trip_time_ms', 'jitter_ms', 'source_selected')) and all(k in j['output_metrics'][0] for k in ('name', 'status', 'connected', 'bitrate_kbps', 'packets_sent', 'disconnections')) and 'timestamp' in j"

req GET "/v1/flows/$FLOW/events?limit=50"
check "flow events: flow_started" 200 "'flow_started' in [e['type'] for e in j['events']] and all(e['flow_id'] == '$FLOW' for e in j['events'])"
req GET "/v1/events?limit=100"
check "global events include the flow's" 200 "'$FLOW' in [e['flow_id'] for e in j['events']]"
req GET "/v1/events?limit=0"
check "events limit 0 is 400" 400 "$ENVELOPE"

req GET /health
check "health counts the active flow" 200 'j["active_flows"] >= 1 and j["total_flows"] >= 1'

# -- stop, double stop, delete ---------------------------------------------------
if [ -n "$SENDER_PID" ]; then
  kill "$SENDER_PID" 2>/dev/null
  wait "$SENDER_PID" 2>/dev/null
  SENDER_PID=
fi
req POST "/v1/flows/$FLOW/stop"
check "stop" 200 'j["status"] == "STANDBY"'
req POST "/v1/flows/$FLOW/stop"
check "stop again (idempotent)" 200 'j["status"] == "STANDBY"'
req GET "/v1/flows/$FLOW/events?limit=50"
check "flow events: flow_stopped" 200 '"flow_stopped" in [e["type"] for e in j["events"]]'
req GET "/v1/flows/$FLOW/metrics"
check "metrics of a stopped flow" 200 'j["status"] == "STANDBY" and j["uptime_seconds"] == 0'

req DELETE "/v1/flows/$FLOW"
if [ "$STATUS" = 204 ]; then pass "delete"; else fail "delete: status $STATUS, want 204"; fi
req GET "/v1/flows/$FLOW"
check "the deleted flow is 404" 404 "$ENVELOPE"
req GET "/v1/events?limit=10000"
check "its events went with it" 200 "'$FLOW' not in [e['flow_id'] for e in j['events']]"

echo "# $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
