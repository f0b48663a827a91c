#!/usr/bin/env bash
# Regenerate the web app's typed api client from the FastAPI OpenAPI schema.
#
# Usage: scripts/gen_api_client.sh          write web/openapi.json and web/src/api/schema.d.ts
#        scripts/gen_api_client.sh --check  fail if either committed file is out of date
#
# Both outputs are committed; web/src/api/ is never edited by hand.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WEB="$ROOT/web"
CHECK=0
[[ "${1:-}" == "--check" ]] && CHECK=1

if [[ ! -x "$WEB/node_modules/.bin/openapi-typescript" ]]; then
  echo "web/node_modules is missing: run 'npm ci --prefix web' (or 'make web') first" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# A fixed env so the schema does not depend on the developer's .env; sorted keys keep diffs stable.
(cd "$ROOT" && MOCKI_ENV=test "$PYTHON" -c \
  "import json; from mocki.app import create_app; print(json.dumps(create_app().openapi(), indent=2, sort_keys=True))" \
  >"$tmp/openapi.json")
(cd "$WEB" && ./node_modules/.bin/openapi-typescript "$tmp/openapi.json" -o "$tmp/schema.d.ts" >/dev/null)

if [[ $CHECK == 1 ]]; then
  status=0
  cmp -s "$tmp/openapi.json" "$WEB/openapi.json" || { echo "web/openapi.json is stale" >&2; status=1; }
  cmp -s "$tmp/schema.d.ts" "$WEB/src/api/schema.d.ts" || { echo "web/src/api/schema.d.ts is stale" >&2; status=1; }
  [[ $status == 0 ]] || echo "run scripts/gen_api_client.sh and commit the result" >&2
  exit $status
fi

mkdir -p "$WEB/src/api"
cp "$tmp/openapi.json" "$WEB/openapi.json"
cp "$tmp/schema.d.ts" "$WEB/src/api/schema.d.ts"
echo "wrote web/openapi.json and web/src/api/schema.d.ts"
