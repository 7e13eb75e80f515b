# shellcheck shell=bash
# Sourced by hack/soak.sh: the markdown results table, the verdict, and putting the table into
# docs/reliability.md between its markers.

# --systemd writes its own pair, so each driver's last run stays.
soak_markers() {
  local tag=soak-results
  ((${systemd:-0})) && tag=soak-systemd-results
  SOAK_BEGIN="<!-- $tag:begin (written by hack/soak.sh; do not edit by hand) -->"
  SOAK_END="<!-- $tag:end -->"
}

verdict=FAIL
reasons=()

# sample_field ENTRY N: field N (1 iteration, 2 fds, 3 RSS, 4 PSS, 5 USS, 6 dirty USS,
# 7 anonymous PSS) of a memory sample.
sample_field() {
  local -a f
  read -ra f <<<"$1"
  echo "${f[$(($2 - 1))]}"
}

max_field() {
  local s m=0 v
  for s in "${mem_samples[@]}"; do
    v=$(sample_field "$s" "$1")
    ((v > m)) && m=$v
  done
  echo "$m"
}

judge() {
  local c first last
  reasons=()
  ((failures == 0)) || reasons+=("$failures lifecycles failed: ${failed_ids[*]:0:10}" "${fail_reasons[@]/#/failed: }")
  for c in "${LEAK_COUNTERS[@]}"; do
    [[ ${after[$c]} == "${before[$c]}" ]] || reasons+=("$c: ${before[$c]} before the loop, ${after[$c]} after")
    [[ ${final[$c]} == 0 ]] || reasons+=("$c: ${final[$c]} left after the last container")
  done
  first=${mem_samples[0]} last=${mem_samples[-1]}
  [[ $(sample_field "$first" 2) == "$(sample_field "$last" 2)" ]] ||
    reasons+=("grouped shim fds: $(sample_field "$first" 2) after warm-up, $(sample_field "$last" 2) at the end")
  local f n
  for f in "7:anonymous PSS:$PSS_BOUND_KB" "6:dirty USS:$USS_BOUND_KB"; do
    IFS=: read -r n label bound <<<"$f"
    (($(sample_field "$last" "$n") <= $(sample_field "$first" "$n") + bound)) ||
      reasons+=("grouped shim $label grew from $(sample_field "$first" "$n") to $(sample_field "$last" "$n") kB (bound +$bound kB)")
  done
  ((${#reasons[@]} == 0)) && verdict=PASS
  return 0
}

ok_mark() {
  if [[ $1 == yes ]]; then echo ok; else echo "**LEAK**"; fi
}

write_report() {
  judge
  local c k commit first last
  commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
  first=${mem_samples[0]} last=${mem_samples[-1]}
  echo "### Soak run of $(date -u '+%Y-%m-%d %H:%M UTC'): $verdict"
  echo
  echo "- Command: \`hack/soak.sh --iterations $iterations --sample-every $sample_every$( ((systemd)) && echo " --systemd")\`$([[ -n $inject ]] && echo " --inject-leak $inject") at commit $commit,"
  echo "  $(basename "$build") ($(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || echo '?')), containerd $(containerd --version | awk '{print $3}'), $(nproc) cores, kernel $(uname -r), cgroup $(stat -fc %T /sys/fs/cgroup/ | sed 's/tmpfs/v1 hybrid/'), $( ((systemd)) && echo "systemd driver (systemd $(systemctl --version | awk 'NR == 1 {print $2}'), $([[ -n ${SOAK_IN_SANDBOX:-} ]] && echo "booted in namespaces by hack/systemd-sandbox.sh" || echo "PID 1"))" || echo "cgroupfs driver")."
  echo "- containerd namespace \`$NS\`, state under \`$WORK\` (removed at the end)."
  echo "- Lifecycles: $iterations ($((iterations - failures)) as expected, $failures failed), half in the grouped shim, half in shims of their own;"
  echo "  loop ${loop_seconds} s, $(awk -v s="$loop_seconds" -v n="$iterations" 'BEGIN {printf "%.2f", s / n}') s per lifecycle; whole run ${total_seconds} s."
  echo
  echo "| kind | lifecycles | mean seconds |"
  echo "|---|---:|---:|"
  for k in "${KINDS[@]}"; do
    [[ -n ${kind_runs[$k]:-} ]] || continue
    echo "| $k | ${kind_runs[$k]} | $(awk -v s="${kind_seconds[$k]}" -v n="${kind_runs[$k]}" 'BEGIN {printf "%.2f", s / n}') |"
  done
  echo
  echo "| leak counter | before the loop (anchor) | after the loop | after the anchor's delete | |"
  echo "|---|---:|---:|---:|---|"
  for c in "${LEAK_COUNTERS[@]}"; do
    local good=no
    [[ ${after[$c]} == "${before[$c]}" && ${final[$c]} == 0 ]] && good=yes
    echo "| ${LEAK_LABEL[$c]} | ${before[$c]} | ${after[$c]} | ${final[$c]} | $(ok_mark $good) |"
  done
  echo
  echo "| grouped shim (pid $group_shim) | after warm-up (lifecycle $(sample_field "$first" 1)) | last (lifecycle $(sample_field "$last" 1)) | max | bound | |"
  echo "|---|---:|---:|---:|---|---|"
  local good=no
  [[ $(sample_field "$first" 2) == "$(sample_field "$last" 2)" ]] && good=yes
  echo "| open fds | $(sample_field "$first" 2) | $(sample_field "$last" 2) | $(max_field 2) | last = first | $(ok_mark $good) |"
  local f n label bound
  for f in "6:dirty USS:$USS_BOUND_KB" "7:anonymous PSS:$PSS_BOUND_KB" 5:USS: 4:PSS: 3:RSS:; do
    IFS=: read -r n label bound <<<"$f"
    good=yes
    if [[ -n $bound ]]; then
      (($(sample_field "$last" "$n") <= $(sample_field "$first" "$n") + bound)) || good=no
      echo "| $label kB | $(sample_field "$first" "$n") | $(sample_field "$last" "$n") | $(max_field "$n") | last ≤ first + $bound | $(ok_mark $good) |"
    else
      echo "| $label kB | $(sample_field "$first" "$n") | $(sample_field "$last" "$n") | $(max_field "$n") | (with clean text: context only) | |"
    fi
  done
  echo
  echo "Samples (lifecycle: fds RSS/PSS/USS/dirty USS/anonymous PSS kB): $(for s in "${mem_samples[@]}"; do
    read -r i fd r p u d a <<<"$s"
    printf '%s: %s %s/%s/%s/%s/%s; ' "$i" "$fd" "$r" "$p" "$u" "$d" "$a"
  done | sed 's/; $//')"
  echo
  if [[ $verdict == PASS ]]; then
    echo "Verdict: **PASS**: every lifecycle did what it should, nothing leaked."
  else
    echo "Verdict: **FAIL**:"
    local r
    for r in "${reasons[@]}"; do echo "- $r"; done
  fi
}

# splice_into_doc REPORT DOC: replaces what lies between DOC's two soak markers with REPORT.
splice_into_doc() {
  local report=$1 doc=$2
  soak_markers
  grep -qxF "$SOAK_BEGIN" "$doc" && grep -qxF "$SOAK_END" "$doc" ||
    { echo "soak: $doc lacks the lines '$SOAK_BEGIN' and '$SOAK_END'" >&2; return 1; }
  awk -v b="$SOAK_BEGIN" -v e="$SOAK_END" -v r="$report" '
    $0 == b { print; while ((getline line < r) > 0) print line; skip = 1; next }
    $0 == e { skip = 0 }
    !skip' "$doc" >"$doc.tmp"
  mv "$doc.tmp" "$doc"
  echo "soak: results written into $doc" >&2
}
