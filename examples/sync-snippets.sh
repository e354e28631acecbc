#!/usr/bin/env bash
# Copies every `// snippet:NAME:start` … `:end` region of examples/ into the ```java block that
# follows `<!-- snippet:NAME -->` in the READMEs. ExamplesTest fails when they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
for readme in README.md */README.md; do
  grep -q '<!-- snippet:' "$readme" || continue
  awk -v src_dir="examples/src/main/java/dev/tokenbroker/examples" '
    function snippet(name,   f, cmd, line, on, out, n, i, min, l, lines) {
      cmd = "cat " src_dir "/*.java"
      on = 0; n = 0
      while ((cmd | getline line) > 0) {
        if (line ~ "// snippet:" name ":end") on = 0
        if (on) lines[++n] = line
        if (line ~ "// snippet:" name ":start") on = 1
      }
      close(cmd)
      min = 1000
      for (i = 1; i <= n; i++) if (lines[i] !~ /^ *$/) { match(lines[i], /^ */); if (RLENGTH < min) min = RLENGTH }
      out = ""
      for (i = 1; i <= n; i++) out = out (lines[i] ~ /^ *$/ ? "" : substr(lines[i], min + 1)) "\n"
      return out
    }
    /<!-- snippet:/ { print; match($0, /snippet:[a-z0-9-]+/); name = substr($0, RSTART + 8, RLENGTH - 8)
      print "```java"; printf "%s", snippet(name); print "```"; skip = 1; next }
    skip && /^```java/ { inblock = 1; next }
    skip && inblock && /^```/ { skip = 0; inblock = 0; next }
    skip && inblock { next }
    { print }
  ' "$readme" > "$readme.tmp" && mv "$readme.tmp" "$readme"
done
