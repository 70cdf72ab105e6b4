"""Benchmark the frame stage against the decode-only lower bound (CPU).

Corpus: synthetic H.264 videos at 480p and 720p, 30 s at 30 fps (generated once, cached in
--work). Lower bound: decoding just the 48 needed frames of every video to RGB arrays with the
fastest decoder available (PyAV sequential decode or decord's get_batch, whichever is faster per
video), writing nothing. Then the real frame stage (decode + resize to both tiers + JPEG + manifest)
with 1 worker, and with 1 vs N workers at one decode thread each to show the parallel speed-up.

    python bench/bench_frames.py [--work outputs/bench/frames] [--videos-per-size 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import av

from data_prep.decode import probe
from data_prep.frames import FrameOptions, extract_frames
from data_prep.sampling import plan_frames
from data_prep.synthetic import SynthSpec, write_video

SIZES = {"480p": (854, 480), "720p": (1280, 720)}


def make_corpus(folder: Path, per_size: int, seconds: float) -> list[Path]:
    paths = []
    for name, (w, h) in SIZES.items():
        for i in range(per_size):
            path = folder / f"{name}_{i}.mp4"
            if not path.exists():
                write_video(path, SynthSpec(width=w, height=h, fps=30, seconds=seconds, num_objects=6), seed=i)
            paths.append(path)
    return paths


def decode_only_pyav(path: Path, indices: tuple[int, ...]) -> None:
    wanted, last = set(indices), indices[-1]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in wanted:
                frame.to_ndarray(format="rgb24")
            if i >= last:
                break


def decode_only_decord(path: Path, indices: tuple[int, ...]) -> None:
    import decord

    decord.VideoReader(str(path)).get_batch(list(indices)).asnumpy()


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="outputs/bench/frames")
    parser.add_argument("--videos-per-size", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(args.work)
    videos = make_corpus(work / "videos", args.videos_per_size, args.seconds)
    print(f"corpus: {len(videos)} videos ({', '.join(SIZES)}), {args.seconds:.0f} s each, 30 fps, H.264")

    bound = 0.0
    for path in videos:
        info = probe(path)
        indices = plan_frames(info.total_frames, info.fps).indices
        decoders = {"pyav": decode_only_pyav, "decord": decode_only_decord}
        times = {name: min(timed(fn, path, indices) for _ in range(2)) for name, fn in decoders.items()}
        best = min(times, key=times.get)
        bound += times[best]
        print(f"  {path.name}: decode-only pyav {times['pyav']:.2f} s, decord {times['decord']:.2f} s")

    def run_stage(workers: int, threads: int) -> float:
        out = work / f"out_w{workers}_t{threads}"
        shutil.rmtree(out, ignore_errors=True)
        options = FrameOptions(decode_threads=threads)
        start = time.perf_counter()
        extract_frames([work / "videos"], out, options, workers=workers, progress=False)
        return time.perf_counter() - start

    stage = run_stage(1, 0)
    print(f"decode-only lower bound: {bound:.2f} s")
    print(f"frame stage, 1 worker:   {stage:.2f} s  -> {stage / bound:.2f}x the bound (goal <= 1.5x)")
    one = run_stage(1, 1)
    many = run_stage(args.workers, 1)
    print(f"1 decode thread per worker: 1 worker {one:.2f} s, {args.workers} workers {many:.2f} s "
          f"-> speed-up {one / many:.2f}x (ideal {args.workers}x)")
    print(f"videos per second (1 worker): {len(videos) / stage:.2f}")


if __name__ == "__main__":
    main()
