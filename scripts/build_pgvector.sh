#!/usr/bin/env bash
# Build pgvector 0.8.x from Debian trixie's source package and install it for PostgreSQL 15.
#
# Needs root (it writes /etc/apt/sources.list.d/ragrec-trixie-src.list, runs apt-get and installs
# into /usr/share/postgresql/15/extension and /usr/lib/postgresql/15/lib):
#     sudo scripts/build_pgvector.sh [--force]
# It is the same code path as `ragrec services up` (ragrec/services/postgres.py), which runs it
# itself when it is root; use this script when RagRec runs as a normal user. Skipped when a
# pgvector 0.8.x is already installed, unless --force.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${root}/.venv/bin/python"
if [[ "$(id -u)" != 0 ]]; then
    echo "run as root: sudo $0 $*" >&2
    exit 1
fi
if [[ ! -x "${python}" ]]; then
    echo "no usable virtualenv at ${root}/.venv: create it first (python3 -m venv .venv && .venv/bin/pip install -e .)" >&2
    exit 1
fi
cd "${root}"
exec "${python}" -m ragrec.services.postgres build-pgvector "$@"
