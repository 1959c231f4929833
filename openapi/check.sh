#!/usr/bin/env bash
# Holds a live ringhook to openapi/openapi.json with schemathesis: starts `ringhook serve` on a
# free port with a throw-away SQLite database, seeds a tenant, an admin user, an OAuth client
# and a source with the admin CLI, gets an access token through the real OAuth flow, and runs
# schemathesis with it. Fails on any 500, undocumented status, or body, header or content type
# that does not match the description.
#
#   bash openapi/check.sh                 # builds and uses ${CARGO_TARGET_DIR:-target}/debug/ringhook
#   RINGHOOK_BIN=path/to/ringhook bash openapi/check.sh
#   MAX_EXAMPLES=200 bash openapi/check.sh
#   bash openapi/check.sh --include-tag hooks   # extra arguments go to `schemathesis run`
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${MAX_EXAMPLES:-40}
TARGET=${CARGO_TARGET_DIR:-target}
if [ -z "${RINGHOOK_BIN:-}" ]; then
  cargo build --quiet
fi
BIN=${RINGHOOK_BIN:-$TARGET/debug/ringhook}
# In a checkout, `shared/` sits beside the repository (as for the Zapier app's tests).
FIXTURES=${RINGHOOK_FIXTURES:-../shared/fixtures}
# ringhook warns about RINGHOOK_* variables that are not its settings.
unset RINGHOOK_BIN RINGHOOK_FIXTURES
VENV=${SCHEMATHESIS_VENV:-target/schemathesis-venv}

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export RINGHOOK_DATABASE_URL="sqlite://$WORK/ringhook.db"
export RINGHOOK_LISTEN="127.0.0.1:$PORT"
export RINGHOOK_PUBLIC_URL="$BASE"
# Hook targets on loopback, so that subscriptions made by the fuzzer can succeed.
export RINGHOOK_ALLOW_PRIVATE_TARGETS=true
export RINGHOOK_ALLOW_HTTP_TARGETS=true
export RINGHOOK_LOG_FILTER=${RINGHOOK_LOG_FILTER:-error}

field() { python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

PASSWORD="schemathesis password"
REDIRECT_URI="https://zapier.com/dashboard/auth/oauth/return/App123CLIAPI/"
tenant=$("$BIN" tenant create --name "Schemathesis Dental" | field id)
# Its PBX API is a closed port: click-to-call requests are stored, then fail as unreachable.
source_id=$("$BIN" source create --tenant "$tenant" --kind zorio \
  --api-url http://127.0.0.1:9/api --api-key schemathesis | field id)
# Kazoo's secret travels in the URL, so the fuzzer's bodies get past verification to the parser.
kazoo=$("$BIN" source create --tenant "$tenant" --kind kazoo --account-id 4c122831efef10ac68b5223dccd6f614)
kazoo_id=$(echo "$kazoo" | field id)
kazoo_secret=$(echo "$kazoo" | field secret)
echo "$PASSWORD" | "$BIN" user create --tenant "$tenant" --email admin@schemathesis.example \
  --name "Ada Admin" --extension 1001 --number +14155550100 --admin \
  --link "$source_id:1001" --password-stdin >/dev/null
client=$("$BIN" client create --name Schemathesis --redirect-uri "$REDIRECT_URI")
client_id=$(echo "$client" | field client_id)
client_secret=$(echo "$client" | field client_secret)

"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.1
done

token=$("$VENV/bin/python" openapi/oauth_token.py "$BASE" "$client_id" "$client_secret" \
  "$REDIRECT_URI" admin@schemathesis.example "$PASSWORD" "calls:read calls:write tenant:admin")

# Data for the operations that need it: a hook whose deliveries fail (nothing listens on
# port 9), a click-to-call request, and a recorded call replayed through ingest, so that
# events, deliveries with their attempts, and call requests are real objects checked against
# their schemas.
auth=(-H "authorization: Bearer $token")
hook_id=$(curl -fsS "${auth[@]}" -H 'content-type: application/json' \
  -d '{"target_url": "http://127.0.0.1:9/ringhook", "event": "*"}' "$BASE/v1/hooks" | field id)
call_id=$(curl -sS "${auth[@]}" -H 'content-type: application/json' -d '{"to": "+14155550123"}' \
  "$BASE/v1/calls" | field call_id)
scenario="$FIXTURES/zorio/inbound_answered"
if [ -d "$scenario" ]; then
  "$BIN" simulate --source "$source_id" "$scenario" >/dev/null
  for _ in $(seq 1 100); do
    delivery_id=$(curl -fsS "${auth[@]}" "$BASE/v1/hooks/$hook_id/deliveries" |
      python3 -c 'import json, sys; d = [x for x in json.load(sys.stdin) if x["attempt_log"]]; print(d[0]["id"] if d else "")')
    [ -n "$delivery_id" ] && break
    sleep 0.1
  done
  [ -n "$delivery_id" ] || { echo "no delivery was attempted"; exit 1; }
else
  echo "warning: $scenario not found (set RINGHOOK_FIXTURES); /v1/events will be empty" >&2
  delivery_id=dlv_01jd8kq2m3n4p5q6r7s8t9v0wx
fi
cat >"$WORK/schemathesis.toml" <<TOML
[cache]
enabled = false

[[operations]]
include-path = "/ingest/{source_id}"
parameters = { "path.source_id" = "$kazoo_id", "query.token" = "$kazoo_secret" }

[[operations]]
include-operation-id = "getHook"
parameters = { "path.id" = "$hook_id" }

[[operations]]
include-operation-id = "listHookDeliveries"
parameters = { "path.id" = "$hook_id" }

# The PBX is unreachable on purpose: placeCall's documented 502 is the gateway reporting it,
# not a fault of ringhook's.
[[operations]]
include-operation-id = "placeCall"
checks.not_a_server_error.expected-statuses = ["1XX", "2XX", "3XX", "4XX", 502]

[[operations]]
include-operation-id = "getCall"
parameters = { "path.id" = "$call_id" }

# Queue names on the seeded source, so that naming, listing and forgetting really happen.
[[operations]]
include-operation-id = "adminListQueues"
parameters = { "path.id" = "$source_id" }

[[operations]]
include-operation-id = "adminNameQueue"
parameters = { "path.id" = "$source_id" }

[[operations]]
include-operation-id = "adminDeleteQueue"
parameters = { "path.id" = "$source_id" }

# The seeded hook is active: re-enabling it is the documented 409. (It is not given to
# adminDeleteHook, which would take it from the operations above.)
[[operations]]
include-operation-id = "adminEnableHook"
parameters = { "path.id" = "$hook_id" }

[[operations]]
include-operation-id = "retryDelivery"
parameters = { "path.id" = "$delivery_id" }
TOML

status=0
"$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run openapi/openapi.json \
  --url "$BASE" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,unsupported_method \
  --max-examples "$MAX_EXAMPLES" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --max-redirects 0 \
  --request-retries 2 \
  --generation-database none \
  --no-color \
  "$@" || status=$?
if [ "$status" -ne 0 ]; then
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "--- the server is still running; its log (errors) ---"
  else
    echo "--- the server has exited; its log (errors) ---"
  fi
  tail -n 50 "$WORK/server.log"
fi
exit "$status"
