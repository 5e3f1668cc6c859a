#!/usr/bin/env bash
# Runs a command with the project's tools on PATH (building any that are missing first) and the
# Pulumi CLI set up for offline use.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$here/tools.sh" all >&2
PATH=$(bash "$here/tools.sh" bin):$PATH
export PATH
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
exec "$@"
