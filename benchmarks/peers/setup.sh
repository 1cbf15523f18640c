#!/usr/bin/env bash
# Installs the peers bench-search compares against: PostgreSQL 15 from Debian, tantivy,
# faiss-cpu, psycopg and numpy from PyPI.
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! [ -x /usr/lib/postgresql/15/bin/initdb ]; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi
python3 -m pip install -q tantivy faiss-cpu "psycopg[binary]" numpy
