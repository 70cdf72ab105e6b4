"""The eval reads long videos by seeking: sampling 64 frames (fps 2) from an hour-long video
decodes only the stretches from the keyframe before each sampled frame, not the whole stream.

The proof is deterministic, no timing. An hour-long 32x32 video (2 fps, a keyframe every 20
frames, each frame's index written in its pixels, lossless) is copied with every packet of every
group of pictures (GOP) that holds no sampled frame replaced, byte for byte, by a packet that
decodes to no picture (a filler NAL unit, then end-of-sequence): a valid stream whose emptied
stretches yield no frames. Decoding the whole copy gives only the kept frames (control), and a
reader that decodes its way forward -- decord counts decoded frames to know where it is -- lands
on the wrong frames after the first emptied stretch (control). The eval's ``decode_videos`` gives
bit-identical frames and metadata for both files, at the indices qwen-vl-utils itself selects:
its reader went to each sampled frame from the keyframe before it.
"""

from __future__ import annotations

import bisect
import shutil
import struct
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from recipes.videossr.eval.backends.base import SEEKING_READERS, clear_decode_memo, decode_videos

SIZE, FPS, SECONDS, KEYINT = 32, 2, 3600, 20
BUDGET = 64  # the paper's largest frame budget at fps 2
CELL = SIZE // 4  # 4 x 4 cells of 8 x 8 pixels: 16 bits of frame index


def _index_frame(index: int) -> np.ndarray:
    bits = np.array([(index >> b) & 1 for b in range(16)], dtype=np.uint8).reshape(4, 4) * 255
    return np.repeat(np.repeat(bits, CELL, 0), CELL, 1)[:, :, None].repeat(3, 2)


def _read_index(frame_hwc: np.ndarray) -> int:
    centers = frame_hwc[CELL // 2 :: CELL, CELL // 2 :: CELL].mean(axis=2) > 128
    return int(sum(int(bit) << b for b, bit in enumerate(centers.reshape(-1))))


def _write_hour(path: Path) -> None:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width = stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0", "threads": "1",
                          "x264-params": f"keyint={KEYINT}:min-keyint={KEYINT}:scenecut=0:bframes=0"}
        for index in range(FPS * SECONDS):
            for packet in stream.encode(av.VideoFrame.from_ndarray(_index_frame(index), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _packets(path: Path) -> list[tuple[int, int, bool]]:
    """(byte offset, size, keyframe) of each video packet, in stream order (no B-frames: frame order)."""
    with av.open(str(path)) as container:
        return [(p.pos, p.size, p.is_keyframe) for p in container.demux(video=0) if p.size]


def _qwen_indices(total: int) -> list[int]:
    """The frames qwen-vl-utils' readers take: smart_nframes, then linspace over the video."""
    from qwen_vl_utils.vision_process import smart_nframes

    nframes = smart_nframes({"fps": 2.0, "max_frames": BUDGET}, total_frames=total, video_fps=FPS)
    return torch.linspace(0, total - 1, nframes).round().long().tolist()


def _no_picture(size: int) -> bytes:
    """A ``size``-byte H.264 packet (4-byte NAL lengths, as in MP4) that decodes to no picture and
    no error: a filler-data NAL unit, then an end-of-sequence one (FFmpeg returns quietly on it)."""
    assert size >= 11, size
    filler = bytes([0x0C]) + b"\xff" * (size - 11) + b"\x80"
    return struct.pack(">I", len(filler)) + filler + struct.pack(">I", 1) + bytes([0x0A])


@pytest.fixture(scope="module")
def hour(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("hour")
    intact = folder / "hour.mp4"
    _write_hour(intact)
    packets = _packets(intact)
    keys = [i for i, (_, _, key) in enumerate(packets) if key]
    gop_of = lambda i: bisect.bisect_right(keys, i) - 1  # noqa: E731
    sampled = _qwen_indices(len(packets))
    kept = {gop_of(i) for i in sampled}
    emptied_path = folder / "hour_emptied.mp4"
    shutil.copy(intact, emptied_path)
    emptied = []
    with open(emptied_path, "r+b") as f:
        for i, (pos, size, _) in enumerate(packets):
            if gop_of(i) not in kept:
                f.seek(pos)
                f.write(_no_picture(size))
                emptied.append(i)
    return {"intact": intact, "emptied": emptied_path, "frames": len(packets), "keys": keys,
            "sampled": sampled, "emptied_packets": emptied}


def _part(path: Path) -> dict:
    return {"type": "video", "video": str(path), "fps": 2.0, "max_frames": BUDGET,
            "max_pixels": 512 * 512, "min_pixels": 128 * 128}


def test_the_eval_reader_seeks():
    from qwen_vl_utils.vision_process import get_video_reader_backend

    # qwen-vl-utils 0.0.14 picks FORCE_QWENVL_VIDEO_READER, else torchcodec, else decord
    assert get_video_reader_backend() in SEEKING_READERS


def test_frames_are_the_ones_qwen_vl_utils_selects(hour):
    from qwen_vl_utils.vision_process import VIDEO_READER_BACKENDS, get_video_reader_backend

    assert hour["frames"] == FPS * SECONDS and len(hour["keys"]) == hour["frames"] // KEYINT
    frames, metadata, sample_fps = VIDEO_READER_BACKENDS[get_video_reader_backend()](_part(hour["intact"]))
    assert len(hour["sampled"]) == BUDGET and list(metadata["frames_indices"]) == hour["sampled"]
    assert metadata["total_num_frames"] == hour["frames"] and sample_fps == pytest.approx(BUDGET / SECONDS)
    assert frames.dtype == torch.uint8 and frames.shape == (BUDGET, 3, SIZE, SIZE)
    assert [_read_index(f.permute(1, 2, 0).numpy()) for f in frames] == hour["sampled"]


def test_sampling_decodes_from_the_keyframe_before_each_sampled_frame(hour):
    emptied, frames = len(hour["emptied_packets"]), hour["frames"]
    assert emptied > 0.8 * frames  # 82% of the stream decodes to nothing...
    clear_decode_memo()
    (want, want_meta), = decode_videos([{"role": "user", "content": [_part(hour["intact"])]}], 14)
    (got, got_meta), = decode_videos([{"role": "user", "content": [_part(hour["emptied"])]}], 14)
    # ...yet the eval's frames, sizes and timestamps are bit-identical, from the same seeking reader
    # (had the reader failed, qwen-vl-utils would have fallen back to another, named in the metadata)
    assert got_meta["video_backend"] in SEEKING_READERS and got_meta == want_meta
    assert got.shape == (BUDGET, 3, 140, 140) and torch.equal(got, want)


def test_control_decoding_the_whole_emptied_stream_gives_only_the_kept_frames(hour):
    with av.open(str(hour["emptied"])) as container:
        indices = [_read_index(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    emptied = set(hour["emptied_packets"])
    assert indices == [i for i in range(hour["frames"]) if i not in emptied]


def test_control_decoding_forward_through_an_emptied_stretch_loses_count(hour):
    """decord numbers frames by counting decoded ones: read forward from the start, it is off by
    the emptied stretch -- so the right frames above came from seeking past such stretches."""
    decord = pytest.importorskip("decord")

    first_gap = hour["emptied_packets"][0]
    reader = decord.VideoReader(str(hour["emptied"]))
    forward = [_read_index(reader.next().asnumpy()) for _ in range(first_gap + 1)]
    assert forward[:first_gap] == list(range(first_gap))
    assert forward[first_gap] != first_gap and forward[first_gap] not in hour["emptied_packets"]
