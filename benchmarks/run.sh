#!/usr/bin/env bash
# Builds the JMH benchmarks and runs them with settings short enough for a small shared machine
# (about 6 minutes on 2 cores), then writes benchmarks/results/results.json and results.md.
#
#   benchmarks/run.sh              # accessToken and interceptor benchmarks
#   benchmarks/run.sh --diagnose   # also HotPathPartsBenchmark (where accessToken's time goes)
#
# JMH_OPTS replaces the default run settings, e.g. JMH_OPTS="-f 3 -wi 5 -i 10" for a quiet machine.
# Needs only a JDK 17+; the Maven wrapper fetches everything else.
set -euo pipefail

cd "$(dirname "$0")/.."
out=benchmarks/results
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
read -r -a settings <<< "${JMH_OPTS:--f 1 -wi 3 -w 2s -i 5 -r 2s}"
diagnose=false
[[ "${1:-}" == "--diagnose" ]] && diagnose=true

# Everything runs from the benchmarks module's test class path (the peers are test-scope
# dependencies): build it and write it down.
./mvnw -B -q -pl benchmarks -am package dependency:build-classpath -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/classpath.txt
cp="benchmarks/target/test-classes:$(cat benchmarks/target/classpath.txt)"
mkdir -p "$out/raw"
rm -f "$out"/raw/*.json

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# run NAME JMH-ARGS...: one JMH invocation, its JSON kept in results/raw/NAME.json.
files=()
run() {
  local name=$1
  shift
  echo "== $name"
  files+=("$out/raw/$name.json")
  "$java" -cp "$cp" org.openjdk.jmh.Main "$@" "${settings[@]}" -prof gc -rf json -rff "$out/raw/$name.json"
}

# accessToken on a FRESH token. Throughput in ops/s; sampled latency (p50/p99) in ns.
for threads in 1 2; do
  run "access-same-thrpt-t$threads" 'AccessTokenBenchmark\.sameConnection$' \
    -p connections=1,100000 -t "$threads" -bm thrpt -tu s
  run "access-same-sample-t$threads" 'AccessTokenBenchmark\.sameConnection$' \
    -p connections=1,100000 -t "$threads" -bm sample -tu ns
  # With one connection, anyConnection is sameConnection plus a counter: only run it for 100,000.
  run "access-any-thrpt-t$threads" 'AccessTokenBenchmark\.anyConnection$' \
    -p connections=100000 -t "$threads" -bm thrpt -tu s
  run "access-any-sample-t$threads" 'AccessTokenBenchmark\.anyConnection$' \
    -p connections=100000 -t "$threads" -bm sample -tu ns
done

# The interceptor's added cost: alone (stub chain) and in a loopback HTTP call.
run interceptor-avgt 'InterceptorBenchmark' -t 1 -bm avgt -tu ns
run interceptor-sample 'InterceptorBenchmark\.http' -t 1 -bm sample -tu ns

if $diagnose; then
  # 27 configurations: shorter iterations keep this part to about 4 minutes.
  main_settings=("${settings[@]}")
  settings=(-f 1 -wi 2 -w 1s -i 3 -r 1s)
  run parts-thrpt 'HotPathPartsBenchmark' -t 1 -bm thrpt -tu s
  settings=("${main_settings[@]}")
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
{
  echo "# Benchmark results"
  echo
  echo "- Run: $started to $(date -u +%Y-%m-%dT%H:%M:%SZ), \`benchmarks/run.sh${1:+ $1}\`"
  echo "- JMH settings: \`${settings[*]} -prof gc\`, each configuration run once" \
    "$($diagnose && echo '(HotPathPartsBenchmark: `-f 1 -wi 2 -w 1s -i 3 -r 1s -prof gc`)')"
  echo "- Machine: $(nproc 2>/dev/null || echo '?') CPUs, $(uname -sm)," \
    "load average before $load_before, after $load_after"
  echo "- JVM: $("$java" -version 2>&1 | head -n 1)"
  echo
  "$java" -cp "$cp" dev.tokenbroker.benchmarks.ResultsTable "$out/results.json" "${files[@]}"
} > "$out/results.md"
cat "$out/results.md"
