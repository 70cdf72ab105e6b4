import pytest

from data_prep.sampling import TooFewFrames, fit_within, plan_frames

# (total frames, fps, expected first index, step, sample_fps) -- the paper's rule
PLANS = [
    (250, 25.0, 12, 4, 4.8),  # bikes.mp4
    (900, 30.0, 45, 16, 1.6),  # 30 s at 30 fps
    (53, 24.0, 2, 1, 48 / (53 / 24)),  # smallest span that still holds 48 frames
]


@pytest.mark.parametrize("total,fps,first,step,sample_fps", PLANS)
def test_paper_rule(total, fps, first, step, sample_fps):
    plan = plan_frames(total, fps)
    assert plan.indices == tuple(first + i * step for i in range(48))
    assert plan.indices[-1] < int(0.95 * total)
    assert plan.sample_fps == pytest.approx(sample_fps)


def test_span_mode_uses_the_true_spacing():
    assert plan_frames(900, 30.0, fps_mode="span").sample_fps == pytest.approx(30.0 / 16)


@pytest.mark.parametrize("total", [0, 1, 30, 52])
def test_too_few_frames(total):
    with pytest.raises(TooFewFrames):
        plan_frames(total, 24.0)


@pytest.mark.parametrize("kwargs", [dict(fps=0), dict(num_frames=0), dict(span=(0.5, 0.4)), dict(fps_mode="x")])
def test_invalid_options(kwargs):
    args = dict(total_frames=100, fps=24.0) | kwargs
    with pytest.raises(ValueError):
        plan_frames(**args)


@pytest.mark.parametrize(
    "w,h,budget,expected",
    [(1280, 720, 65536, (341, 192)), (176, 144, 65536, (176, 144)), (720, 1280, 65536, (192, 341)),
     (3840, 2160, 262144, (682, 384))],
)
def test_fit_within(w, h, budget, expected):
    assert fit_within(w, h, budget) == expected


def test_matches_the_reference_formula_for_every_length():
    """The reference scripts' arithmetic, written out independently, for T = 53..5000 frames."""
    for total in range(53, 5001):
        start, end = int(0.05 * total), int(0.95 * total)
        step = (end - start) // 48
        expected = tuple(start + i * step for i in range(48))
        assert plan_frames(total, 30.0).indices == expected, total
