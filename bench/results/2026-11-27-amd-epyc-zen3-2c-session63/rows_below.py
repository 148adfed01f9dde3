import json, sys, statistics
# rows under a bound (median share of peak over runs whose measured peak is sane)
bound = float(sys.argv[1]); files = sys.argv[2:]
ds = [json.load(open(f)) for f in files]
ds = [d for d in ds if d['peak_gflops'] > 150]
agg = {}
for d in ds:
    for r in d['rows']:
        if r['flops'] <= 0: continue
        agg.setdefault((r['layer'], r['kind'], r['shape']), []).append((r['seconds'], r['peak_fraction']))
for k, v in sorted(agg.items(), key=lambda kv: -statistics.median(x[0] for x in kv[1])):
    f = statistics.median(x[1] for x in v)
    if f < bound: print('%-22s %-22s %-44s %6.2fms %4.1f%% (%s)' % (k[0], k[1][:22], k[2][:44], 1e3*statistics.median(x[0] for x in v), 100*f, ' '.join('%.0f' % (100*x[1]) for x in v)))
