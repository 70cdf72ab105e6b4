"""Registry of Anomaly Grounding perturbations: ``PERTURBATIONS[name]``.

Adding one = a module with a function ``fn(segment, rng) -> list`` (see ``base.py`` for the
contract) + one ``_register`` line below. Names become the grounding ``data_source`` subtype
(``videossr/grounding/<name>``), so keep them lowercase ``[a-z0-9_]``.

>>> sorted(TRAINING_PERTURBATIONS)
['channel_swap', 'mirror', 'rotate_180', 'zoom_out']
>>> PERTURBATIONS["mirror"].description
'the frames are flipped horizontally (mirrored)'
"""

from __future__ import annotations

from data_prep.perturbations import color, spatial, swap, temporal
from data_prep.perturbations.base import Perturbation, Segment

PERTURBATIONS: dict[str, Perturbation] = {}


def _register(p: Perturbation) -> None:
    if p.name in PERTURBATIONS:
        raise ValueError(f"perturbation {p.name!r} registered twice")
    PERTURBATIONS[p.name] = p


_TIME_NOTE = "; the timestamps stay evenly spaced, so judge the speed from the motion"
# The paper's 14.
_register(
    Perturbation("saturation", color.saturation, "the colors become strongly oversaturated", "fine-grained")
)
_register(Perturbation("noise", color.noise, "strong random noise is added to the frames", "fine-grained"))
_register(Perturbation("blur", color.blur, "the frames become blurred", "fine-grained"))
_register(Perturbation("grayscale", color.grayscale, "the video turns black and white", "fine-grained"))
_register(Perturbation("invert", color.invert, "the colors are inverted (negative image)", "fine-grained"))
_register(
    Perturbation(
        "channel_swap", color.channel_swap, "the red and blue color channels are swapped", "fine-grained"
    )
)
_register(Perturbation("zoom_in", spatial.zoom_in, "the view is suddenly zoomed in", "spatial"))
_register(
    Perturbation(
        "rotate_180", spatial.rotate_180, "the frames are rotated by 180 degrees (upside down)", "spatial"
    )
)
_register(
    Perturbation(
        "zoom_out", spatial.zoom_out, "the view is zoomed out, with black borders around it", "spatial"
    )
)
_register(Perturbation("mirror", spatial.mirror, "the frames are flipped horizontally (mirrored)", "spatial"))
_register(Perturbation("slow", temporal.slow, "the video plays in slow motion" + _TIME_NOTE, "temporal"))
_register(Perturbation("fast", temporal.fast, "the video plays faster than normal" + _TIME_NOTE, "temporal"))
_register(
    Perturbation(
        "stutter_hold",
        temporal.stutter_hold,
        "the video stutters: a few frames freeze and are held for a while",
        "temporal",
    )
)
_register(Perturbation("shuffle", temporal.shuffle, "the frames are played in a random order", "temporal"))
# From the reference code.
_register(
    Perturbation(
        "rotate_90", spatial.rotate_90, "the frames are rotated by 90 degrees counter-clockwise", "spatial"
    )
)
_register(
    Perturbation(
        "rotate_270", spatial.rotate_270, "the frames are rotated by 90 degrees clockwise", "spatial"
    )
)
_register(
    Perturbation(
        "swap",
        swap.swap,
        "the content is replaced by a segment from a different video",
        "spatial",
        needs_other_video=True,
    )
)

# Paper: the 4 perturbations used for training (best on Video-MME) and VIUBench's 5.
TRAINING_PERTURBATIONS = ("channel_swap", "rotate_180", "zoom_out", "mirror")
VIUBENCH_PERTURBATIONS = TRAINING_PERTURBATIONS + ("shuffle",)

__all__ = ["PERTURBATIONS", "Perturbation", "Segment", "TRAINING_PERTURBATIONS", "VIUBENCH_PERTURBATIONS"]
