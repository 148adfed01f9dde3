#!/usr/bin/env bash
# The video loader against the ffmpeg CLI at 1..N worker threads, on synthetic videos made here
# (30 H.264 .mp4 + 10 MPEG-4 .avi, 320x240, 25 fps, 4 s) unless a directory of videos is given.
#   bench/loader_vs_ffmpeg.sh [BENCH_BINARY [VIDEO_DIR [MAX_THREADS]]] [-- extra vidnet-bench-loader options]
set -euo pipefail

positional=()
while (($#)) && [[ $1 != -- ]]; do positional+=("$1"); shift; done
(($#)) && shift  # the rest goes to vidnet-bench-loader
bench=${positional[0]:-${VIDNET_BUILD_DIR:-build}/bin/vidnet-bench-loader}
videos=${positional[1]:-${TMPDIR:-/tmp}/vidnet-bench-videos}
max=${positional[2]:-$(nproc)}

[[ -x $bench ]] || { echo "loader_vs_ffmpeg.sh: no benchmark binary at $bench" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "loader_vs_ffmpeg.sh: the ffmpeg CLI is not on PATH" >&2; exit 2; }

if [[ ! -d $videos ]] || [[ -z $(find "$videos" -type f \( -name '*.mp4' -o -name '*.avi' -o -name '*.mkv' -o -name '*.webm' \) -print -quit) ]]; then
  mkdir -p "$videos"
  echo "making 40 test videos in $videos" >&2
  for i in $(seq -w 0 29); do
    ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=320x240:rate=25" -t 4 \
      -c:v libx264 -preset veryfast -pix_fmt yuv420p -y "$videos/h264_$i.mp4"
  done
  for i in $(seq -w 0 9); do
    ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=320x240:rate=25" -t 4 \
      -c:v mpeg4 -q:v 4 -pix_fmt yuv420p -y "$videos/mpeg4_$i.avi"
  done
fi

for ((t = 1; t <= max; t *= 2)); do
  "$bench" "$videos" --threads "$t" "$@"
done
