"""The peer benchmark's tables (Markdown, for people and the README) and report.json, from its rows.
usage: peer_report.py OUT_DIR      re-prints the tables of a finished or interrupted run"""
import json
import os
import statistics
import sys

GROUP = ("model", "batch", "clip", "threads", "entry")
LOGIT_TOLERANCE, STEP_TOLERANCE = 1e-4, 1e-3
# After one step, ReLU inputs within float32 rounding of 0 fall on either side of the kink in any
# float32 run (PyTorch's own included), and the flipped gradients reach every upstream weight.
# Weights within this bound, with the loss within STEP_TOLERANCE and such inputs present in the
# float64 run, are that noise, not different work: the row is ranked and flagged.
KINK_NOISE = 1e-2
RANKED = ("ok", "kink-noise")


def verdict(r):
    """A measured row's status from its errors: ok, kink-noise or disagrees (the one rule)."""
    if "logit_error" in r:
        return "ok" if r["logit_error"] <= LOGIT_TOLERANCE else "disagrees"
    if "loss_error" in r:
        if r["loss_error"] > STEP_TOLERANCE:
            return "disagrees"
        if r["weight_error"] <= STEP_TOLERANCE:
            return "ok"
        return "kink-noise" if r["weight_error"] <= KINK_NOISE and r["near_kink_relu_inputs"] else "disagrees"
    return r["status"]


SEVERITY = {"ok": 0, "kink-noise": 1, "disagrees": 2}


def pooled(rounds):
    """One peer's rows of one group (one per round of `peer_bench.py --rounds`) as one row: every
    round's times pooled (median, min, max, runs), the first round's first run and compile times,
    the agreement of its worst round, and each round's median in round_medians_s."""
    rounds = sorted(rounds, key=lambda r: r.get("round", 1))
    measured = [r for r in rounds if "median_s" in r]
    if len(measured) < 2:
        return rounds[0]
    worst = max(measured, key=lambda r: SEVERITY.get(r["status"], 3))
    times = [t for r in measured for t in (r.get("times_s") or [r["median_s"]])]
    first = measured[0]
    row = dict(first) | {k: v for k, v in worst.items() if k.endswith("_error") or k in ("status", "why")}
    row |= {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "runs": sum(r["runs"] for r in measured), "times_s": times, "rounds": len(measured),
            "round_medians_s": {str(r.get("round", 1)): r["median_s"] for r in measured}}
    if "gflops" in first:
        row["gflops"] = first["gflops"] * first["median_s"] / row["median_s"]
        row["peak_fraction"] = first["peak_fraction"] * first["median_s"] / row["median_s"]
    return row


def round_speeds(ours, best):
    """vidnet's speed against `best` in each round both ran (its round median over ours)."""
    mine, theirs = ours.get("round_medians_s", {}), best.get("round_medians_s", {})
    return [theirs[n] / mine[n] for n in sorted(mine, key=int) if n in theirs]


def fastest_peer(group):
    """The fastest peer that ran and agreed with float64 (never vidnet itself)."""
    ok = [r for r in group if r["peer"] != "vidnet" and r["status"] in RANKED]
    return min(ok, key=lambda r: r["median_s"]) if ok else None


def spread(r):
    return f"{r['median_s']:.3f} ({r['min_s']:.3f}-{r['max_s']:.3f})"


def groups_of(rows):
    """Rows by (model, batch, clip, threads, entry), each peer's rounds pooled into one row."""
    groups = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in GROUP), {}).setdefault(r["peer"], []).append(r)
    return {key: [pooled(rounds) for rounds in by_peer.values()] for key, by_peer in groups.items()}


def summary(groups):
    with_rounds = any(r.get("rounds", 1) > 1 for group in groups.values() for r in group)
    lines = ["| model | batch x clip | threads | entry | vidnet s (min-max) | of peak | fastest peer | its s "
             "| vidnet speed vs fastest |" + (" speed per round (min-max) |" if with_rounds else ""),
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if with_rounds else "")]
    table = []
    for key, group in groups.items():
        model, batch, clip, threads, entry = key
        ours = next((r for r in group if r["peer"] == "vidnet"), None)
        best = fastest_peer(group)
        if ours is None:
            continue
        ours_ok = ours["status"] in RANKED
        ratio = best["median_s"] / ours["median_s"] if best and ours_ok else None
        table.append({"model": model, "batch": batch, "clip": clip, "threads": threads, "entry": entry,
                      "vidnet_s": ours.get("median_s"), "vidnet_status": ours["status"],
                      "fastest_peer": best["peer"] if best else None,
                      "fastest_peer_s": best["median_s"] if best else None, "speed_vs_fastest": ratio})
        speeds = round_speeds(ours, best) if ratio else []
        if speeds:
            table[-1]["speed_per_round"] = speeds
        lines.append(f"| {model} | {batch} x {clip} | {threads} | {entry} | "
                     + (f"{spread(ours)} | {ours['peak_fraction']:.0%}" if ours_ok
                        else f"{ours['status']}: {ours.get('why', '')} | ")
                     + (f" | {best['peer']} | {spread(best)}" if best else " | none agreed | ")
                     + (f" | {ratio:.2f}x |" if ratio else " | |")
                     + ((f" {statistics.median(speeds):.2f}x ({min(speeds):.2f}-{max(speeds):.2f}), {len(speeds)} rounds |"
                         if speeds else " |") if with_rounds else ""))
    return lines, table


def check_text(r):
    if r["entry"] == "forward":
        return f"logits {r['logit_error']:.1e}" if "logit_error" in r else ""
    if "loss_error" not in r:
        return ""
    return (f"loss {r['loss_error']:.1e}, weights {r['weight_error']:.1e}, update {r['update_error']:.1e}"
            f" ({r['near_kink_relu_inputs']} ReLU inputs within 1e-5 of 0)")


FLAGS = {"ok": "", "kink-noise": "weights over 1e-3, within float32 kink noise: ", "disagrees": "DISAGREES: "}


def details(groups):
    lines = ["| model | batch x clip | threads | entry | peer | s median (min-max), runs | first run s | GFLOP/s "
             "| of peak | agreement with float64 |", "|---|---|---|---|---|---|---|---|---|---|"]
    for key, group in groups.items():
        model, batch, clip, threads, entry = key
        best = fastest_peer(group)
        for r in group:
            name = r["peer"] + (" (fastest peer)" if best is r else "")
            if "median_s" in r:
                runs = f"{r['runs']}" + (f" in {r['rounds']} rounds" if r.get("rounds", 1) > 1 else "")
                lines.append(f"| {model} | {batch} x {clip} | {threads} | {entry} | {name} | {spread(r)}, {runs}"
                             f" | {r['first_run_s']:.2f} | {r['gflops']:.1f} | {r['peak_fraction']:.0%}"
                             f" | {FLAGS[r['status']]}{check_text(r)} |")
            else:
                lines.append(f"| {model} | {batch} x {clip} | {threads} | {entry} | {name} | {r['status']}: "
                             f"{r.get('why', '')} | | | | |")
    return lines


def compile_times(rows):
    """Per case, the seconds every compiler took before its first run (fastest thread count's row)."""
    lines = ["| model | batch x clip | vidc build (MLIR + LLVM) | torch.compile forward, step (first call) "
             "| ONNX export | OpenVINO compile | IREE import + compile | ONNX Runtime session |",
             "|---|---|---|---|---|---|---|---|"]
    cases = {}
    for r in rows:
        cases.setdefault((r["model"], r["batch"], r["clip"]), {}).setdefault((r["peer"], r["entry"]), r)

    def seconds(row, field="compile_s"):
        return f"{row[field]:.1f}" if row and row.get(field) is not None else "-"

    for (model, batch, clip), by in cases.items():
        v = by.get(("vidnet", "forward")) or by.get(("vidnet", "step"))
        split = v.get("compile_split") if v else None
        vidc = seconds(v) + (f" ({split['mlir_s']:.0f} + {split['llvm_s']:.0f})" if split and split["mlir_s"] else "")
        tc = f"{seconds(by.get(('torch-compile', 'forward')))}, {seconds(by.get(('torch-compile', 'step')))}"
        iree = by.get(("iree", "forward"))
        iree_s = (f"{iree['convert_s']:.1f} + {iree['compile_s']:.1f}" if iree and "convert_s" in iree
                  and iree.get("compile_s") is not None else "-")
        onnx = by.get(("onnxruntime", "forward")) or by.get(("openvino", "forward"))
        lines.append(f"| {model} | {batch} x {clip} | {vidc} | {tc} | {seconds(onnx, 'export_s')} "
                     f"| {seconds(by.get(('openvino', 'forward')))} | {iree_s} "
                     f"| {seconds(by.get(('onnxruntime', 'forward')))} |")
    return lines


def settings_lines(rows):
    """Every peer's precision switches and versions, once each."""
    seen = {}
    for r in rows:
        if r.get("settings") and r["peer"] not in seen:
            seen[r["peer"]] = r["settings"]
    return [f"- {peer}: " + ", ".join(f"{k}={v}" for k, v in s.items()) for peer, s in seen.items()]


def print_report(machine, rows, out):
    for r in rows:
        r["status"] = verdict(r)
    groups = groups_of(rows)
    head, table = summary(groups)
    peak = machine["peak"]
    after = machine.get("peak_after")
    text = [f"Machine: {machine['cpu']} (family/model {machine.get('family_model', '?')}, "
            f"{' '.join(machine.get('isa', []))}), {machine['cores']} cores; measured fp32 FMA peak "
            f"{peak['peak_gflops_1_thread']} GFLOP/s on 1 thread, {peak['peak_gflops_all_threads']} on all"
            + (f" (after the run: {after['peak_gflops_1_thread']}, {after['peak_gflops_all_threads']})" if after else "")
            + ".", "GFLOP/s count the multiply-adds that touch the clip (not padding zeros); "
            "a step is the forward, every filter gradient and every data gradient but the stem's.", "",
            "vidnet against the fastest peer that agreed with float64 PyTorch (speed > 1x: vidnet is faster):", "",
            *head, "", "Every peer:", "", *details(groups), "", "Compile and convert seconds:", "",
            *compile_times(rows), "", "Settings:", *settings_lines(rows)]
    print("\n".join(text))
    with open(os.path.join(out, "tables.md"), "w") as f:
        f.write("\n".join(text) + "\n")
    return {"machine": machine, "summary": table, "rows": rows}


if __name__ == "__main__":
    out = sys.argv[1]
    with open(os.path.join(out, "machine.json")) as f:
        machine_info = json.load(f)
    with open(os.path.join(out, "rows.jsonl")) as f:
        all_rows = [json.loads(line) for line in f if line.strip()]
    print_report(machine_info, all_rows, out)
