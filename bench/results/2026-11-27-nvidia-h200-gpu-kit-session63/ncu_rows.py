# Per-kernel GPU times (ncu gpu__time_duration) of one train_step, mapped to the manifest's ops.
import csv, json, sys, collections
csvf, manf = sys.argv[1], sys.argv[2]
lines = [l for l in open(csvf) if l.startswith('"')]
rows = list(csv.DictReader(lines))
man = json.load(open(manf))
kern = {k['name']: k for k in man['cuda']['kernels']}
tot = 0; items = []
for r in rows:
    ns = float(r['Metric Value'].replace(',', ''))
    k = kern.get(r['Kernel Name'], {})
    items.append((ns / 1e6, r['Kernel Name'], ','.join(k.get('ops', [])[:3]), r['Grid Size'], r['Block Size']))
    tot += ns / 1e6
print('kernels', len(items), 'total ms', round(tot, 2))
items.sort(reverse=True)
for it in items[:int(sys.argv[3]) if len(sys.argv) > 3 else 25]:
    print('%8.3f ms  %-18s %-50s grid %s block %s' % it)
