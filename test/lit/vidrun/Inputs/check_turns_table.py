"""Checks the table of `vidrun profile A B` against the bundles' JSON: the "by kind" lines are
every kind either bundle has (A's and those only B has, "-" where one has none), and the rows B
has that A does not are listed apart, so that B's times add up to its call."""
import json
import sys

reports = [json.loads(line) for line in open(sys.argv[1])]
table = open(sys.argv[2]).read().split("\n")
a, b = reports[0], reports[1]
key = lambda row: (row["layer"], row["kind"], row["shape"])

kinds_section = table[table.index("by kind:") + 1:]
listed = [line.split("  ")[-1].strip() for line in kinds_section if line.strip() and "profiled call" not in line]
expected = list(a["kinds"]) + [k for k in b["kinds"] if k not in a["kinds"]]
assert sorted(listed) == sorted(expected), (listed, expected)
only_b = [k for k in b["kinds"] if k not in a["kinds"]]
assert only_b, "the check needs a kind only B has"
for kind in only_b:
    line = next(l for l in kinds_section if l.rstrip().endswith("  " + kind))
    assert line.split()[0] == "-", line
print("by kind lists", len(listed), "kinds,", len(only_b), "of them only B's")

b_only_rows = {key(r) for r in b["rows"]} - {key(r) for r in a["rows"]}
assert b_only_rows, "the check needs rows only B has"
start = table.index("rows A does not have:") + 1
section = table[start:table.index("", start)]
shown = [l for l in section if not l.strip().startswith("...")]
assert shown and all(l.split()[0] == "-" for l in shown), shown
print("rows A does not have:", len(shown), "shown of", len(b_only_rows))
