# Small shell helpers shared by the scripts: progress lines with elapsed time, waiting.
LAKEHOUSE_T0="${LAKEHOUSE_T0:-$(date +%s)}"
export LAKEHOUSE_T0
step() { printf '[%4ss] %s\n' "$(( $(date +%s) - LAKEHOUSE_T0 ))" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
wait_for() {  # wait_for DESCRIPTION SECONDS COMMAND...
  local what="$1" limit="$2"; shift 2
  local i=0
  until "$@"; do
    i=$((i + 1)); [ "$i" -ge "$limit" ] && { echo "timed out waiting for $what" >&2; return 1; }
    sleep 1
  done
  step "$what is up"
}
pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  dirname "$(command -v initdb 2>/dev/null || echo /usr/bin/initdb)"
}
