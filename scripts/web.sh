#!/usr/bin/env bash
# Install the web app's packages (cached by lock hash outside the clone) and build web/dist
# only when a source file changed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${MOCKI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mocki}
cd "$ROOT/web"
[ -f package.json ] || { echo "[web] no web/package.json"; exit 0; }

LOCK_HASH=$(sha256sum package-lock.json | cut -c1-16)
MODULES="$CACHE/node_modules/$LOCK_HASH"
if [ ! -d "$MODULES/node_modules" ]; then
  printf '\033[1m[web]\033[0m installing npm packages ...\n'
  rm -rf "$MODULES.tmp" && mkdir -p "$MODULES.tmp"
  cp package.json package-lock.json "$MODULES.tmp/"
  (cd "$MODULES.tmp" && npm ci --no-audit --no-fund --loglevel=error)
  rm -rf "$MODULES" && mv "$MODULES.tmp" "$MODULES"
fi
if [ "$(readlink node_modules 2>/dev/null)" != "$MODULES/node_modules" ]; then
  rm -rf node_modules && ln -s "$MODULES/node_modules" node_modules
fi

SRC_HASH=$( (cat package-lock.json index.html vite.config.ts tsconfig*.json 2>/dev/null; { find src public -type f 2>/dev/null || true; } | sort | xargs cat 2>/dev/null) | sha256sum | cut -c1-16)
if [ "$(cat dist/.stamp 2>/dev/null)" != "$SRC_HASH" ]; then
  printf '\033[1m[web]\033[0m building web/dist ...\n'
  npm run --silent build
  echo "$SRC_HASH" > dist/.stamp
fi
