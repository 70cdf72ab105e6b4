import av
import numpy as np

from data_prep.synthetic import SynthSpec, render_frames, write_video

SPEC = SynthSpec(width=96, height=64, fps=12, seconds=2)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    # Repeated: an encoder setting that is only sometimes deterministic must not slip through.
    assert len({write_video(tmp_path / f"r{i}.mp4", SPEC, seed=1).read_bytes() for i in range(8)}) == 1
    a = write_video(tmp_path / "a.mp4", SPEC, seed=1).read_bytes()
    b = write_video(tmp_path / "b.mp4", SPEC, seed=1).read_bytes()
    c = write_video(tmp_path / "c.mp4", SPEC, seed=2).read_bytes()
    assert a == b and a != c


def test_real_h264_with_the_requested_geometry(tmp_path):
    path = write_video(tmp_path / "v.mp4", SPEC, seed=0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == 24 and frames[0].shape == (64, 96, 3)


def test_content_moves_over_time():
    frames = list(render_frames(SPEC, seed=0))
    diffs = [np.abs(frames[i + 1].astype(int) - frames[i]).mean() for i in range(len(frames) - 1)]
    assert min(diffs) > 0.5, "every frame differs from the previous one (motion for the jigsaw task)"
