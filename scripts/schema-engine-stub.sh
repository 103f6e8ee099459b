#!/bin/sh
# Stand-in for Prisma's schema engine: `prisma generate` does not use it, and the real
# one would be downloaded from a host this network cannot reach.
echo "schema engine not available offline" >&2
exit 1
