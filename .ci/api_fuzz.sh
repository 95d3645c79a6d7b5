# Fuzz the live API against its own OpenAPI schema with schemathesis (sourced by .ci/run
# after PostgreSQL is up). A fresh database with the demo data, gunicorn on 127.0.0.1,
# an API key of the steward role; fails on any server error or schema violation. (The
# coverage phase is left out: schemathesis 4.32 stops there on an error of its own,
# in hypothesis' lambda-source inspection, not on anything the API answered.)
set -euo pipefail
API_PORT="${API_PORT:-58000}"
API_DB_NAME=mdm_api_fuzz
API_DB="${DATABASE_URL%/*}/$API_DB_NAME"
psql "${DATABASE_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS $API_DB_NAME WITH (FORCE)"
psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE $API_DB_NAME"
export_env() { env DATABASE_URL="$API_DB" CELERY_BROKER_URL= "$@"; }
export_env .venv/bin/python manage.py migrate -v0
export_env .venv/bin/python manage.py load_demo >/dev/null
STEWARD_KEY="$(export_env .venv/bin/python manage.py create_api_key ERP --role data_steward 2>/dev/null)"
export_env .venv/bin/gunicorn mdm.wsgi --workers 2 --bind "127.0.0.1:$API_PORT" \
    --daemon --pid "$RUN_DIR/gunicorn.pid" --error-logfile "$RUN_DIR/gunicorn.log"
for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$API_PORT/api/v1/health" >/dev/null 2>&1 && break
    sleep 0.2
done
set +e
.venv/bin/schemathesis run "http://127.0.0.1:$API_PORT/api/v1/schema" \
    --header "X-API-Key: $STEWARD_KEY" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "${FUZZ_EXAMPLES:-300}" --workers 2 --seed 1 --no-color \
    --phases examples,fuzzing,stateful \
    > "$RUN_DIR/schemathesis.log" 2>&1
FUZZ_STATUS=$?
set -e
kill "$(cat "$RUN_DIR/gunicorn.pid")" 2>/dev/null || true
tail -n 40 "$RUN_DIR/schemathesis.log"
CASES="$(grep -oE '[0-9,]+ (generated|test cases)' "$RUN_DIR/schemathesis.log" | head -1 | tr -dc 0-9)"
echo "schemathesis: ${CASES:-?} generated cases, exit status $FUZZ_STATUS"
if [ "$FUZZ_STATUS" -ne 0 ]; then
    echo "schemathesis found server errors or schema violations"; exit 1
fi
if [ -n "$CASES" ] && [ "$CASES" -lt 2000 ]; then
    echo "schemathesis generated fewer than 2,000 cases"; exit 1
fi
