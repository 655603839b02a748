#!/usr/bin/env bash
# Prepares a Tryton 8.2 back office for the integration tests and prints what to start.
#
#   tests/tryton/setup.sh WORKDIR PORT
#
# 1. a virtual environment with Tryton from PyPI, cached in $KITUO_TRYTON_VENV
#    (default /tmp/kituo-tryton-venv): reruns skip the install;
# 2. a populated template database on 127.0.0.1:5432 ($KITUO_TRYTON_PG, default
#    postgresql://postgres@127.0.0.1:5432/), named after a hash of populate.py, so reruns copy it
#    in a second instead of populating again (~5 minutes here);
# 3. a fresh database for this run, copied from the template, and WORKDIR/trytond.conf listening on
#    127.0.0.1:PORT.
# Prints `TRYTOND=<path> CONF=<path> DATABASE=<name>` on its last line. Starting and stopping
# trytond is the caller's (the tests stop it mid-run).
set -euo pipefail
WORKDIR=${1:?usage: setup.sh WORKDIR PORT}
PORT=${2:?usage: setup.sh WORKDIR PORT}
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${KITUO_TRYTON_VENV:-/tmp/kituo-tryton-venv}
PG=${KITUO_TRYTON_PG:-postgresql://postgres@127.0.0.1:5432/}
PGHOST=127.0.0.1
export PGHOST PGUSER=postgres PGPORT=5432
mkdir -p "$WORKDIR"

if [ ! -x "$VENV/bin/trytond" ] || [ ! -f "$VENV/.kituo-ok" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        'trytond>=8.2,<8.3' 'trytond-sale>=8.2,<8.3' 'trytond-account-invoice>=8.2,<8.3' \
        'trytond-stock>=8.2,<8.3' 'trytond-sale-complaint>=8.2,<8.3' 'trytond-party>=8.2,<8.3' \
        'trytond-product>=8.2,<8.3' 'proteus>=8.2,<8.3' 'psycopg[binary,pool]' >&2
    touch "$VENV/.kituo-ok"
fi

# The template is rebuilt when the population script changes.
HASH=$(sha1sum "$HERE/populate.py" | cut -c1-10)
TEMPLATE="kituo_tryton_tpl_$HASH"
conf() {
    cat > "$WORKDIR/trytond.conf" <<CONF
[database]
uri = $PG
path = $WORKDIR/data
[web]
listen = 127.0.0.1:$PORT
[session]
timeout = 3600
CONF
    mkdir -p "$WORKDIR/data"
}
conf
if ! psql -tAc "select 1 from pg_database where datname = '$TEMPLATE'" postgres | grep -q 1; then
    echo "populating $TEMPLATE (first run only)" >&2
    dropdb --if-exists "${TEMPLATE}_wip" >&2
    createdb -E UTF8 -T template0 "${TEMPLATE}_wip"
    echo admin > "$WORKDIR/adminpass"
    TRYTONPASSFILE="$WORKDIR/adminpass" "$VENV/bin/trytond-admin" -c "$WORKDIR/trytond.conf" \
        -d "${TEMPLATE}_wip" --all --email admin@example.test >&2 2>"$WORKDIR/admin.log" || {
        tail -20 "$WORKDIR/admin.log" >&2
        exit 1
    }
    "$VENV/bin/trytond-admin" -c "$WORKDIR/trytond.conf" -d "${TEMPLATE}_wip" -u sale sale_complaint \
        --activate-dependencies >>"$WORKDIR/admin.log" 2>&1 || {
        tail -20 "$WORKDIR/admin.log" >&2
        exit 1
    }
    "$VENV/bin/python" "$HERE/populate.py" "$WORKDIR/trytond.conf" "${TEMPLATE}_wip" >&2
    psql -qc "alter database ${TEMPLATE}_wip rename to $TEMPLATE" postgres >&2
fi
# Copies are named after the process that asked (the test run); drop those of finished runs.
for old in $(psql -tAc "select datname from pg_database where datname ~ '^kituo_tryton_[0-9]+_[0-9]+$'" postgres); do
    kill -0 "${old##*_}" 2>/dev/null || dropdb --if-exists "$old" >&2 || true
done
DB="kituo_tryton_$(date +%s)_$PPID"
createdb -T "$TEMPLATE" "$DB"
echo "TRYTOND=$VENV/bin/trytond CONF=$WORKDIR/trytond.conf DATABASE=$DB"
