# shellcheck shell=bash
# Sourced by the scripts that build Debian roots with mmdebstrap (cg2vm-image.sh, check-fresh.sh):
# the mirrors come from this machine's apt sources, the only archive it can reach.

# apt_mirror_for SUITE: the first mirror URI this machine's apt uses for SUITE (deb822 or
# one-line sources), or nothing.
apt_mirror_for() {
  local suite=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v s="$suite" 'BEGIN { RS = "" } {
        uri = ""; hit = 0
        for (i = 1; i <= NF; i++) {
          if ($i == "URIs:") uri = $(i + 1)
          if ($i == s && hit == 0) hit = 1
        }
        if (hit && uri != "") { print uri; exit }
      }' "$f"
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v s="$suite" '$1 == "deb" { u = ($2 ~ /^\[/) ? $3 : $2; for (i = 3; i <= NF; i++) if ($i == s) { print u; exit } }' ||
    true
}
