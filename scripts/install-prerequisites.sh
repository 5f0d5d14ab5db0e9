#!/usr/bin/env bash
# Installs what the test run and CI need and this machine lacks: the PostgreSQL server, moto_server, cfn-lint.
# Used by .ci/run, the pipeline's synth (scripts/pipeline-synth.sh) and the pull-request check, all as root on
# Debian/Ubuntu (the CodeBuild standard 7.0 image is Ubuntu 22.04: test/support/aws-contracts/codebuild-image.ts).
#
# Usage: install-prerequisites.sh [postgresql] [moto] [cfn-lint]      (no argument: all three)
# Exit:  0 when everything asked for is there afterwards; 1 when something could not be installed; 2 usage error.
#
# PostgreSQL: the check is for the server's initdb, not for pg_config: that image ships libpq-dev, whose pg_config
# answers --bindir with /usr/lib/postgresql/<major>/bin although no server is installed there. initdb is looked for
# where the test services look (test/support/services/postgres-server.ts): $PG_BINDIR, `pg_config --bindir`, then
# /usr/lib/postgresql/*/bin (PG_DEBIAN_ROOT overrides that directory, for tests).
# moto and cfn-lint: pip (Debian and Ubuntu package neither; the CodeBuild image has internet access).
set -euo pipefail

debian_root=${PG_DEBIAN_ROOT:-/usr/lib/postgresql}
want_postgresql=false want_moto=false want_cfn_lint=false
[ "$#" -gt 0 ] || set -- postgresql moto cfn-lint
for item in "$@"; do
  case "$item" in
    postgresql) want_postgresql=true ;;
    moto) want_moto=true ;;
    cfn-lint) want_cfn_lint=true ;;
    *) echo "usage: $0 [postgresql] [moto] [cfn-lint]; unknown prerequisite '$item'" >&2; exit 2 ;;
  esac
done

log() { printf '==> %s\n' "$*"; }

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-prerequisites: apt-get needs root; install it yourself: apt-get install $*" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

find_initdb() {
  local dir
  if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ]; then echo "$PG_BINDIR/initdb"; return 0; fi
  if command -v pg_config >/dev/null && dir=$(pg_config --bindir 2>/dev/null) && [ -x "$dir/initdb" ]; then echo "$dir/initdb"; return 0; fi
  for dir in "$debian_root"/*/bin; do
    if [ -x "$dir/initdb" ]; then echo "$dir/initdb"; return 0; fi
  done
  return 1
}

if "$want_postgresql"; then
  if ! initdb=$(find_initdb); then
    log "PostgreSQL server (initdb) missing$(command -v pg_config >/dev/null && echo ", although pg_config is installed"): installing postgresql"
    apt_install postgresql
    initdb=$(find_initdb) || { echo "install-prerequisites: postgresql installed, yet no initdb under \$PG_BINDIR, pg_config --bindir or $debian_root/*/bin" >&2; exit 1; }
  fi
  echo "PostgreSQL server: $initdb"
fi

missing=()
if "$want_moto" && ! command -v moto_server >/dev/null; then missing+=('moto[server]'); fi
if "$want_cfn_lint" && ! command -v cfn-lint >/dev/null; then missing+=('cfn-lint'); fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "Installing with pip: ${missing[*]}"
  command -v python3 >/dev/null || apt_install python3 python3-pip
  python3 -m pip install --quiet "${missing[@]}" || {
    echo "install-prerequisites: pip could not install ${missing[*]}; install them with: python3 -m pip install ${missing[*]}" >&2
    exit 1
  }
  # pyenv (the CodeBuild image's Python) exposes new console scripts only after a rehash.
  if command -v pyenv >/dev/null; then pyenv rehash; fi
fi
if "$want_moto"; then command -v moto_server >/dev/null || { echo "install-prerequisites: moto_server is not on PATH after installing moto[server]" >&2; exit 1; }; echo "moto_server: $(command -v moto_server)"; fi
if "$want_cfn_lint"; then command -v cfn-lint >/dev/null || { echo "install-prerequisites: cfn-lint is not on PATH after installing it" >&2; exit 1; }; echo "cfn-lint: $(command -v cfn-lint)"; fi
