#!/usr/bin/env bash
# `node ARGS...` on the Node.js papgate runs on (scripts/runtime.sh). `npm start`, the benchmarks and
# the CLI (bin/papgate) start node through here, because npm and the shell that runs them may have
# an older node first in PATH.
set -euo pipefail
# shellcheck source=scripts/runtime.sh
. "$(dirname "${BASH_SOURCE[0]}")/runtime.sh"
papgate_use_node
# npm passes SIGINT and SIGTERM to the process it started (`exec` in package.json makes that node),
# but dies of SIGKILL without a word: the parent-death signal stops node then too.
if [ -x /usr/bin/setpriv ]; then
  exec /usr/bin/setpriv --pdeathsig TERM -- node "$@"
fi
exec node "$@"
