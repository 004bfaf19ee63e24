#!/usr/bin/env bash
# Runs a command with PostgreSQL available to the tests as
# PROBE_TEST_DATABASE_URL.
#
#   tests/pg/with-postgres.sh cargo test --workspace --locked
#
# With PROBE_TEST_DATABASE_URL already set, the command runs against that
# server. Otherwise a throwaway cluster is made in a temporary directory
# (initdb, trust authentication, listening on a free loopback port only),
# the command runs, and the cluster is stopped and removed, whatever the
# command's outcome. Debian's `postgresql` package is installed with apt-get
# when no PostgreSQL binaries are found. initdb refuses to run as root, so as
# root the cluster belongs to the `postgres` user.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

if [ -n "${PROBE_TEST_DATABASE_URL:-}" ]; then
    exec "$@"
fi

find_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

if ! bin="$(find_bin)"; then
    echo "PostgreSQL is not installed; installing Debian's postgresql package" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
    bin="$(find_bin)" || {
        echo "no initdb/pg_ctl after installing postgresql; set PROBE_TEST_DATABASE_URL to a server the tests may use" >&2
        exit 1
    }
fi

dir="$(mktemp -d -t probe-api-pg.XXXXXX)"
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    as_owner=(runuser -u postgres --)
fi

stop() {
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}

# A free port: one nothing answers on. Another process could take it before
# the server binds it, so a failed start tries another.
started=""
for _ in 1 2 3 4 5; do
    port=$(( 20000 + RANDOM % 40000 ))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        continue
    fi
    if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null; then
        started=1
        break
    fi
done
if [ -z "$started" ]; then
    cat "$dir/server.log" >&2 || true
    echo "could not start PostgreSQL; set PROBE_TEST_DATABASE_URL to a server the tests may use" >&2
    exit 1
fi

export PROBE_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL for the tests at $PROBE_TEST_DATABASE_URL" >&2
"$@"
