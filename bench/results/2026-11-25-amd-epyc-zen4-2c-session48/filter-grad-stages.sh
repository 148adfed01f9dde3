#!/bin/bash
# Filter-gradient milliseconds per train_step by stage from `vidrun profile`, alternating bundles (session 48).
#   filter-grad-stages.sh THREADS ROUNDS BUNDLE...
# usage: fgcmp.sh threads rounds bundle...  -> per bundle, per round: filter-grad total ms and per stage
t=$1; r=$2; shift 2
for i in $(seq $r); do for b in "$@"; do
  VIDNET_THREADS=$t build/bin/vidrun profile $b --entry train_step --iters 3 --top 300 2>&1 | awk -v b=$(basename $b) '
    /filter gradient/ && $3 ~ /^(stem|layer)/ { split($3, p, "."); st[p[1]] += $1 }
    /^ *[0-9.]+ +[0-9.]+% +conv filter gradient/ { tot = $1 }
    END { printf "%-22s fg %7.1f  stem %5.1f l1 %6.1f l2 %6.1f l3 %5.1f l4 %5.1f\n", b, tot, st["stem"], st["layer1"], st["layer2"], st["layer3"], st["layer4"] }'
done; done
