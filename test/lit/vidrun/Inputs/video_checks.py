#!/usr/bin/env python3
"""Checks for vidrun's video commands, without numpy (the lit environment has none).

  video_checks.py shape FILE.npy                    prints the array's dtype and shape
  video_checks.py against-ffmpeg CLIPS.npy VIDEO H W compares a `vidrun clips --raw` dump with the
                                                    ffmpeg CLI's decode+scale of VIDEO, cropped and
                                                    flipped as CLIPS.json says; prints the max difference
  video_checks.py same-lines A B KEY                 the KEY field of every JSON line of A equals B's
"""
import ast
import json
import os
import subprocess
import sys


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    major = data[6]
    if major == 1:
        length = int.from_bytes(data[8:10], "little")
        start = 10
    else:
        length = int.from_bytes(data[8:12], "little")
        start = 12
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    return header["descr"], tuple(header["shape"]), data[start + length:]


def main():
    command = sys.argv[1]
    if command == "shape":
        descr, shape, _ = read_npy(sys.argv[2])
        print(descr, "x".join(str(d) for d in shape))
    elif command == "against-ffmpeg":
        clips_path, video, height, width = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        descr, shape, body = read_npy(clips_path)
        assert descr == "|u1" and len(shape) == 5 and shape[4] == 3, (descr, shape)
        rows = json.load(open(os.path.splitext(clips_path)[0] + ".json"))["rows"]
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", video, "-vf", f"scale={width}:{height}",
                              "-pix_fmt", "rgb24", "-f", "rawvideo", "-"], check=True, capture_output=True).stdout
        frame = height * width * 3
        n, length, crop_h, crop_w, _ = shape
        worst = 0
        for c, row in enumerate(rows):
            assert row["path"].endswith(os.path.basename(video)), row["path"]
            for t, index in enumerate(row["frames"]):
                for y in range(crop_h):
                    for x in range(crop_w):
                        sx = row["left"] + (crop_w - 1 - x if row["flip"] else x)
                        ours = ((c * length + t) * crop_h + y) * crop_w + x
                        theirs = index * frame + ((row["top"] + y) * width + sx) * 3
                        for k in range(3):
                            worst = max(worst, abs(body[ours * 3 + k] - raw[theirs + k]))
        print(f"clips {n} frames {length} max |vidrun - ffmpeg| {worst}")
    elif command == "same-lines":
        a = [json.loads(line)[sys.argv[4]] for line in open(sys.argv[2])]
        b = [json.loads(line)[sys.argv[4]] for line in open(sys.argv[3])]
        assert a == b and len(a) > 0, (a[:5], b[:5])
        print(f"{len(a)} equal {sys.argv[4]} values")
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
