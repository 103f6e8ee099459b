#!/bin/sh
# Run once by the postgres image at initdb: lets the read replica (profile
# scaleout) stream WAL as the scoreboard user, with a password, on the compose network.
set -eu
echo "host replication scoreboard all scram-sha-256" >> "$PGDATA/pg_hba.conf"
