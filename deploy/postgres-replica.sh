#!/bin/sh
# Read replica for Scoreboard's history reads (profile scaleout): on first start,
# a base backup of service postgres with standby settings (-R); then a hot standby.
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  until su-exec postgres pg_basebackup -h postgres -U scoreboard -D "$PGDATA" -R -X stream; do
    echo "waiting for the primary to accept a base backup"
    rm -rf "${PGDATA:?}"/*
    sleep 2
  done
fi
exec su-exec postgres postgres -c hot_standby=on
