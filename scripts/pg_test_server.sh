#!/usr/bin/env bash
# Run a command beside a throw-away PostgreSQL server:
#
#     scripts/pg_test_server.sh .venv/bin/pytest -q
#
# initdb's an unprivileged cluster in a temp folder, starts it on 127.0.0.1 on a free port, creates
# the database img_recog_test, runs the command with TEST_POSTGRES_URL set, then stops the server
# and removes the folder, also when the command fails or is interrupted. Exits with the command's
# status. Debian's postgresql is installed with apt-get when missing and we are root; without
# PostgreSQL it says why and runs the command anyway (tests that need the server then skip, or
# fail when CI is set).
set -euo pipefail

say() { echo "pg_test_server: $*" >&2; }

find_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then echo "$dir"; return; fi
    if command -v initdb >/dev/null; then dirname "$(readlink -f "$(command -v initdb)")"; fi
}

install_postgresql() {
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        say "PostgreSQL is not installed and cannot be installed here (needs root and apt-get)"
        return 1
    fi
    say "installing postgresql with apt-get"
    # no default cluster on port 5432: this script makes its own
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/img-recog-tests.conf
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q postgresql >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

[[ $# -gt 0 ]] || { say "usage: $0 COMMAND [ARGS...]"; exit 2; }

bindir=$(find_bindir)
if [[ -z "$bindir" ]] && install_postgresql; then bindir=$(find_bindir); fi
if [[ -z "$bindir" ]]; then
    say "no PostgreSQL server: running without TEST_POSTGRES_URL"
    exec "$@"
fi

as_owner=()
workdir=$(mktemp -d "${TMPDIR:-/tmp}/img-recog-pg.XXXXXX")
if [[ $(id -u) -eq 0 ]]; then  # initdb refuses to run as root: the cluster belongs to nobody
    chown nobody "$workdir"
    as_owner=(runuser -u nobody --)
fi
port=$(free_port)
server_started=0

cleanup() {
    if [[ $server_started -eq 1 ]]; then
        "${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${as_owner[@]}" "$bindir/initdb" -D "$workdir/data" -U postgres --auth=trust -E UTF8 \
    --locale=C --no-sync >"$workdir/initdb.log" 2>&1 \
    || { cat "$workdir/initdb.log" >&2; exit 1; }
server_started=1
"${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w \
    -o "-h 127.0.0.1 -p $port -k $workdir -F" start >/dev/null \
    || { cat "$workdir/server.log" >&2; exit 1; }
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres img_recog_test

export TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/img_recog_test"
# what tests need to stop and restart this server (tests/robustness/postgres_outage.py)
export TEST_POSTGRES_PGCTL="$bindir/pg_ctl" TEST_POSTGRES_DATA="$workdir/data"
export TEST_POSTGRES_OWNER="${as_owner[*]:-}" TEST_POSTGRES_OPTIONS="-h 127.0.0.1 -p $port -k $workdir -F"
export TEST_POSTGRES_LOG="$workdir/server.log"
say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
status=0
"$@" || status=$?
exit $status
