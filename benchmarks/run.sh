#!/usr/bin/env bash
# Runs every benchmark of this library beside its peers (Spring Security's OAuth2 client,
# google-auth-library-java, a naive tokens.json client) in one go and writes
# benchmarks/results/results.md (and results/*.json). About 13 minutes on a 2-core machine.
#
#   benchmarks/run.sh              # everything
#   benchmarks/run.sh --quick      # every part once, minimal iterations (2-3 minutes): a smoke
#                                  # test of the script, not figures to quote
#   benchmarks/run.sh --diagnose   # everything, plus HotPathPartsBenchmark (about 4 minutes more)
#
# JMH_OPTS replaces the JMH run settings, e.g. JMH_OPTS="-f 3 -wi 5 -i 10" for a quiet machine.
# Needs only a JDK 17+; the Maven wrapper fetches everything else from Maven Central. Only
# loopback addresses are used; PostgreSQL and Redis are embedded servers started by the run.
set -euo pipefail

cd "$(dirname "$0")/.."
out=benchmarks/results
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
mode=full
case "${1:-}" in
  "") ;;
  --quick) mode=quick ;;
  --diagnose) mode=diagnose ;;
  *) echo "usage: benchmarks/run.sh [--quick|--diagnose]" >&2; exit 2 ;;
esac
if [[ $mode == quick ]]; then
  read -r -a settings <<< "${JMH_OPTS:--f 1 -wi 1 -w 200ms -i 1 -r 200ms}"
  quick=(--quick)
else
  read -r -a settings <<< "${JMH_OPTS:--f 1 -wi 2 -w 1s -i 5 -r 1s}"
  quick=()
fi

# Everything runs from the benchmarks module's test class path (the peers are test-scope
# dependencies): build it and write it down.
./mvnw -B -q -pl benchmarks -am package dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/classpath.txt
cp="benchmarks/target/test-classes:$(cat benchmarks/target/classpath.txt)"

mkdir -p "$out/raw"
rm -f "$out"/raw/*.json "$out"/*.md "$out"/*.json

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
SECONDS=0

# jmh GROUP NAME JMH-ARGS...: one JMH invocation, its JSON kept in results/raw/GROUP-NAME.json.
jmh() {
  local group=$1 name=$2
  shift 2
  echo "== $group: $name"
  "$java" -cp "$cp" org.openjdk.jmh.Main "$@" "${settings[@]}" -prof gc \
    -rf json -rff "$out/raw/$group-$name.json"
}

# 1. The hot path: a valid cached token, one thread. Throughput (ops/s) and sampled latency (ns).
#    This library (by id, and through a TokenSource kept per connection) with 1 and with 100,000
#    connections configured; each peer with one connection; then everyone resolving a shuffled
#    one of 100,000 connections per call.
for bm in "thrpt -tu s" "sample -tu ns"; do
  read -r -a m <<< "$bm"
  jmh hot "tokenbroker-${m[0]}" '(AccessToken|TokenSource)Benchmark\.sameConnection$' \
    -p connections=1,100000 -t 1 -bm "${m[@]}"
  jmh hot "peers-${m[0]}" '(SpringSecurity|GoogleAuth|NaiveTokenFile)Benchmark\.sameConnection$' \
    -p connections=1 -t 1 -bm "${m[@]}"
  jmh hot "any-${m[0]}" '(AccessToken|TokenSource|SpringSecurity|GoogleAuth)Benchmark\.anyConnection$' \
    -p connections=100000 -t 1 -bm "${m[@]}"
done

# 2. HTTP overhead: the interceptor alone (stub chain) and in a loopback OkHttp call, against a
#    fixed Authorization header.
jmh http avgt 'InterceptorBenchmark' -t 1 -bm avgt -tu ns
jmh http sample 'InterceptorBenchmark\.http' -t 1 -bm sample -tu ns

if [[ $mode == diagnose ]]; then
  # 27 configurations: shorter iterations keep this part to about 4 minutes.
  main_settings=("${settings[@]}")
  settings=(-f 1 -wi 2 -w 1s -i 3 -r 1s)
  jmh parts thrpt 'HotPathPartsBenchmark' -t 1 -bm thrpt -tu s
  settings=("${main_settings[@]}")
fi

# 3. Scenarios against a local token endpoint (OAuth2Emulator on 127.0.0.1), each a main that
#    writes a Markdown section and a JSON file.
report() {
  local name=$1 main=$2
  echo "== $name"
  "$java" -cp "$cp" "dev.tokenbroker.benchmarks.$main" ${quick[@]+"${quick[@]}"} "$out/$name.md"
}
report amplification scenarios.RefreshAmplificationReport
report sustained scenarios.SustainedReport
report cluster ClusterReport
report scale ScaleReport
report onboarding OnboardingReport
# tokenbroker serve over its socket and loopback TCP against `tokenbroker token` per call; the CLI
# row needs cli/target/tokenbroker-cli-*-all.jar (./mvnw -pl cli -am package -DskipTests), else
# the table says it was not built.
report serve-latency ServeLatencyReport

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || true)
{
  echo "# Benchmark results"
  echo
  echo "- Run: $started to $(date -u +%Y-%m-%dT%H:%M:%SZ) (${SECONDS} s)," \
    "\`benchmarks/run.sh${1:+ $1}\`"
  echo "- Machine: $(nproc 2>/dev/null || echo '?') CPUs${cpu:+ ($cpu)}${mem:+, $mem}," \
    "$(uname -sm); load average before $load_before, after $load_after"
  echo "- JVM: $("$java" -version 2>&1 | head -n 1); JMH \`${settings[*]} -prof gc\`," \
    "each configuration run once"
  if [[ $mode == quick ]]; then
    echo "- **Quick mode: minimal iterations, not figures to quote.**"
  fi
  echo
  echo "### Hot path: a valid cached token, one thread"
  echo
  "$java" -cp "$cp" dev.tokenbroker.benchmarks.ResultsTable "$out/hot-path.json" \
    "$out"/raw/hot-*.json
  echo
  echo "### HTTP overhead: an OkHttp call through the broker's interceptor vs a fixed header"
  echo
  "$java" -cp "$cp" dev.tokenbroker.benchmarks.ResultsTable "$out/http.json" \
    "$out"/raw/http-*.json
  if [[ $mode == diagnose ]]; then
    echo
    echo "### Where the hot path's time goes (HotPathPartsBenchmark)"
    echo
    "$java" -cp "$cp" dev.tokenbroker.benchmarks.ResultsTable "$out/parts.json" \
      "$out"/raw/parts-*.json
  fi
  for section in amplification sustained cluster scale onboarding serve-latency; do
    echo
    cat "$out/$section.md"
  done
} > "$out/results.md"
cat "$out/results.md"
echo "Done in ${SECONDS} s: $out/results.md"
