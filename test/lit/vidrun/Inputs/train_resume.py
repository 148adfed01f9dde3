"""Kill -9 during `vidrun train`, then --resume: checks that the checkpoint the kill left is
complete and that the resumed run's losses equal an uninterrupted run's, step for step.

usage: train_resume.py VIDRUN BUNDLE CLIPS LABELS WORKDIR
"""
import json
import os
import signal
import struct
import subprocess
import sys
import time

vidrun, bundle, clips, labels, work = sys.argv[1:6]
SETTINGS = ["--set", "batch_size=2", "--set", "epochs=300", "--set", "epoch_size=8", "--set", "base_lr=0.02",
            "--set", "warmup_epochs=1", "--set", "lr_step_epochs=100", "--set", "checkpoint_every=10",
            "--set", "log_every=1000"]


def train(out, extra=(), background=False):
    args = [vidrun, "train", bundle, "--data", clips, "--labels", labels, "--set", f"out_dir={out}", *SETTINGS, *extra]
    if background:
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def losses(out):
    with open(os.path.join(out, "log.jsonl")) as f:
        return [(j["step"], j["loss"]) for j in map(json.loads, f)]


def check_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    assert len(raw) == 8 + n + end, f"{path}: {len(raw)} bytes, header says {8 + n + end}"
    assert any(k.startswith("momentum_buffer.") for k in header), f"{path}: no momentum buffers"


whole, killed = os.path.join(work, "whole"), os.path.join(work, "killed")
train(whole)
proc = train(killed, background=True)
last = os.path.join(killed, "ckpt", "last.json")
deadline = time.time() + 300
while time.time() < deadline:
    try:
        with open(last) as f:
            if json.load(f)["step"] >= 30:
                break
    except (OSError, ValueError):
        pass  # not written yet (it is renamed into place, so never half-written)
    time.sleep(0.005)
proc.send_signal(signal.SIGKILL)
proc.wait()
with open(last) as f:
    ckpt = json.load(f)
check_safetensors(os.path.join(killed, "ckpt", ckpt["weights"]))
assert os.path.exists(os.path.join(killed, "ckpt", ckpt["state"]))
total = len(losses(whole))
done = len(losses(killed))
assert done < total, f"the run finished ({done} steps) before it was killed; nothing resumed"
train(killed, ["--resume", killed])
a, b = losses(whole), losses(killed)
assert a == b, next(f"step {x[0]}: loss {x[1]} uninterrupted, {y[1]} resumed" for x, y in zip(a, b) if x != y)
print(f"killed at step >= {ckpt['step']} (log had {done} steps), resumed: {len(b)} losses equal the uninterrupted run's")
