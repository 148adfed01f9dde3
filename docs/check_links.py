"""Checks the documentation's links: usage: python3 docs/check_links.py README.md docs/*.md bench/results/README.md bench/results/*/README.md
Every Markdown link in the given files must resolve to a tracked file or folder, and every
#anchor to a heading of its target (GitHub's slug rules)."""
import os, re, subprocess, sys
root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip()
tracked = set(subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=root).stdout.split("\n"))
dirs = {os.path.dirname(f) for f in tracked}
for f in list(dirs):
    while f:
        f = os.path.dirname(f); dirs.add(f)

def slugs(path):
    out, seen, fence = set(), {}, False
    for line in open(os.path.join(root, path)):
        if line.startswith("```"): fence = not fence
        if fence: continue
        m = re.match(r"#{1,6}\s+(.*)", line)
        if not m: continue
        s = m.group(1).strip().lower()
        s = re.sub(r"[^\w\- ]", "", s).replace(" ", "-")
        n = seen.get(s, 0); seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out

bad = 0
for md in sys.argv[1:]:
    text = open(os.path.join(root, md)).read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for m in re.finditer(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)", text):
        link = m.group(1)
        if re.match(r"[a-z]+://|mailto:", link): continue
        target, _, anchor = link.partition("#")
        rel = os.path.normpath(os.path.join(os.path.dirname(md), target)) if target else md
        if rel not in tracked and rel.rstrip("/") not in dirs:
            print(f"{md}: {link}: not a tracked file or folder"); bad += 1; continue
        if anchor:
            if not rel.endswith(".md") or rel not in tracked:
                print(f"{md}: {link}: anchor on a non-Markdown target"); bad += 1
            elif anchor not in slugs(rel):
                print(f"{md}: {link}: no heading '{anchor}' in {rel}"); bad += 1
print(f"{bad} broken links" if bad else "every link resolves")
sys.exit(1 if bad else 0)
