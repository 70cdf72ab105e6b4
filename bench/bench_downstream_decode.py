"""Benchmark the downstream eval's video decoding on an hour-long video against decoding it whole (CPU).

The paper's long-video protocol samples fps 2 with a budget of 32, 48 or 64 frames (one run per
budget), so an hour-long Video-MME / LVBench video gives 32-64 frames. The eval decodes through
``recipes.videossr.eval.backends.base.decode_videos`` (verl's hook, qwen-vl-utils underneath, its
reader: decord here), which seeks to the keyframe before each sampled frame. Figures, each the
best of --repeats runs:

* seconds per video for each budget through ``decode_videos`` (the memo cleared first: a real
  decode, resize to the eval's pixel bounds included), and for a second question on the same
  video (a memo hit);
* decoding every frame of the stream once with PyAV (decode only, no RGB conversion: the floor
  of any reader that decodes the whole stream, like torchvision's ``read_video``);
* frames decoded by the seek rule: up to each sampled frame from the keyframe before it, or from
  the previous sampled frame in the same group of pictures (decord's ``SeekAccurate``; its decode
  thread's read-ahead past a sampled frame not counted).

The video: synthetic H.264 (a moving texture), --minutes long at --fps, --width x --height, a
keyframe every --keyint-seconds; made in a temporary folder unless --work names one (kept there).

    python bench/bench_downstream_decode.py [--minutes 60] [--repeats 2] [--json PATH]

The machine may be shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import tempfile
import time
from pathlib import Path

import av
import numpy as np

BUDGETS = (32, 48, 64)


def write_long_video(path: Path, minutes: float, fps: int, width: int, height: int, keyint: int) -> None:
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (2 * height, 2 * width, 3), dtype=np.uint8)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    with av.open(str(tmp), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23",
                          "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0"}
        for index in range(int(minutes * 60 * fps)):
            y, x = (index // 3) % height, index % width  # the texture drifts: every frame differs
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(texture[y : y + height, x : x + width]),
                                               format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)


def decode_whole(path: Path) -> int:
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            frames += 1
    return frames


def keyframes(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [i for i, p in enumerate(p for p in container.demux(video=0) if p.size) if p.is_keyframe]


def seek_rule_decoded(indices: list[int], keys: list[int]) -> int:
    """Frames decord decodes for ``get_batch(indices)`` (its ``SeekAccurate``): within the keyframe's
    group it goes on from where it is, else it seeks to the keyframe before the frame."""
    key_of = lambda i: keys[bisect.bisect_right(keys, i) - 1]  # noqa: E731
    decoded, position = 0, None
    for i in indices:
        same_group = position is not None and position <= i and key_of(position) == key_of(i)
        decoded += i - (position if same_group else key_of(i)) + 1
        position = i + 1
    return decoded


def best_of(repeats: int, fn, *args) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--fps", type=int, default=24)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=72)
    parser.add_argument("--keyint-seconds", type=float, default=10.0, help="keyframe interval")
    parser.add_argument("--repeats", type=int, default=2, help="runs per figure, the best is kept")
    parser.add_argument("--work", type=Path, default=None, help="keep the video here (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (run_all.py)")
    args = parser.parse_args()

    from qwen_vl_utils.vision_process import get_video_reader_backend

    from recipes.videossr.eval.backends.base import clear_decode_memo, decode_memo_stats, decode_videos

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.work or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        keyint = max(1, round(args.keyint_seconds * args.fps))
        path = folder / f"long_{args.minutes:g}min_{args.width}x{args.height}_{args.fps}fps_k{keyint}.mp4"
        if not path.exists():
            start = time.perf_counter()
            write_long_video(path, args.minutes, args.fps, args.width, args.height, keyint)
            print(f"made {path.name} in {time.perf_counter() - start:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")
        keys = keyframes(path)
        load_before = os.getloadavg()[0]
        reader = get_video_reader_backend()
        print(f"video: {args.minutes:g} min, {args.width}x{args.height}, {args.fps} fps, keyframe every {keyint} "
              f"frames; qwen-vl-utils reader: {reader}; {os.cpu_count()} cores, load {load_before:.1f}")

        # warm-up, not timed: imports (verl, qwen-vl-utils, decord) and first-call set-up
        decode_videos([{"role": "user", "content": [{"type": "video", "video": str(path), "fps": 2.0,
                                                      "max_frames": 4, "video_end": 60.0}]}], 14)
        whole_s, total = best_of(args.repeats, decode_whole, path)
        figures: dict[str, float] = {"whole_decode_s": whole_s, "total_frames": total, "reader": reader}
        rows = []
        for budget in BUDGETS:
            part = {"type": "video", "video": str(path), "fps": 2.0, "max_frames": budget,
                    "max_pixels": 512 * 512, "min_pixels": 128 * 128}
            conversation = [{"role": "user", "content": [part, {"type": "text", "text": "Q?"}]}]

            def fresh():
                clear_decode_memo()
                return decode_videos(conversation, 14)

            seconds, videos = best_of(args.repeats, fresh)
            (frames, metadata), = videos
            hit_s, _ = best_of(args.repeats, decode_videos, conversation, 14)
            assert decode_memo_stats()["hits"] == args.repeats
            indices = list(metadata["frames_indices"])
            decoded = seek_rule_decoded(indices, keys)
            figures |= {f"decode_{budget}_s": seconds, f"hit_{budget}_s": hit_s,
                        f"whole_over_decode_{budget}": whole_s / seconds, f"seek_decoded_frames_{budget}": decoded}
            rows.append((budget, len(indices), tuple(frames.shape[-2:]), seconds, hit_s, decoded))
        clear_decode_memo()

    print(f"\n{'budget':>6} {'frames':>6} {'size':>9} {'s/video':>8} {'memo hit':>9} {'decoded (seek rule)':>20} "
          f"{'whole / this':>12}")
    for budget, n, (h, w), seconds, hit_s, decoded in rows:
        print(f"{budget:>6} {n:>6} {f'{h}x{w}':>9} {seconds:>8.3f} {hit_s:>9.5f} "
              f"{f'{decoded} ({decoded / total:.1%})':>20} {whole_s / seconds:>11.1f}x")
    print(f"{'whole':>6} {total:>6} {'':>9} {whole_s:>8.3f} {'':>9} {f'{total} (100%)':>20} {'1.0':>11}x"
          "   <- PyAV, every frame once, decode only")
    figures["load_before"], figures["load_after"] = load_before, os.getloadavg()[0]
    print(f"load average {load_before:.1f} before, {figures['load_after']:.1f} after")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
