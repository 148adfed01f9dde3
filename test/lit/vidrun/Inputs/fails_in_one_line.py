"""Runs a command and checks that it failed the way every vidrun failure must: exit code 1 and
exactly one line on stderr, starting with "vidrun: ". Prints that line (for FileCheck) and
exits 0; otherwise says what differed and exits 1.

usage: fails_in_one_line.py COMMAND [ARG]...
"""
import subprocess
import sys

run = subprocess.run(sys.argv[1:], capture_output=True, text=True)
lines = [line for line in run.stderr.splitlines() if line.strip()]
problems = []
if run.returncode != 1:
    problems.append(f"exit code {run.returncode}, expected 1")
if len(lines) != 1 or not lines[0].startswith("vidrun: "):
    problems.append(f"{len(lines)} stderr lines, expected one starting with 'vidrun: '")
if problems:
    print(f"{' '.join(sys.argv[1:3])}: " + "; ".join(problems) + "\nstderr:\n" + run.stderr, file=sys.stderr)
    sys.exit(1)
print(lines[0])
