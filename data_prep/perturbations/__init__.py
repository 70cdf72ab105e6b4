"""Registry of Anomaly Grounding perturbations: ``PERTURBATIONS[name]``.

Adding one = a module with a function ``fn(segment, rng) -> list`` (see ``base.py`` for the
contract) + one ``_register`` line below (pass ``description=`` there, or add it to
``data_prep.prompts.GROUNDING_DESCRIPTIONS``, where the paper's texts live). Names become the
grounding ``data_source`` subtype (``videossr/grounding/<name>``), so keep them lowercase
``[a-z0-9_]``.

>>> sorted(TRAINING_PERTURBATIONS)
['channel_swap', 'mirror', 'rotate_180', 'zoom_out']
>>> PERTURBATIONS["mirror"].description
'The video is mirrored horizontally'
"""

from __future__ import annotations

from data_prep.perturbations import color, spatial, swap, temporal
from data_prep.perturbations.base import Perturbation, Segment
from data_prep.prompts import GROUNDING_DESCRIPTIONS

PERTURBATIONS: dict[str, Perturbation] = {}


def _register(name: str, fn, family: str, description: str | None = None, **kwargs) -> None:
    """Register one perturbation; its prompt text comes from ``data_prep.prompts`` unless given."""
    if name in PERTURBATIONS:
        raise ValueError(f"perturbation {name!r} registered twice")
    text = description if description is not None else GROUNDING_DESCRIPTIONS[name]
    PERTURBATIONS[name] = Perturbation(name, fn, text, family, **kwargs)


# The paper's 14.
_register("saturation", color.saturation, "fine-grained")
_register("noise", color.noise, "fine-grained")
_register("blur", color.blur, "fine-grained")
_register("grayscale", color.grayscale, "fine-grained")
_register("invert", color.invert, "fine-grained")
_register("channel_swap", color.channel_swap, "fine-grained")
_register("zoom_in", spatial.zoom_in, "spatial")
_register("rotate_180", spatial.rotate_180, "spatial")
_register("zoom_out", spatial.zoom_out, "spatial")
_register("mirror", spatial.mirror, "spatial")
_register("slow", temporal.slow, "temporal")
_register("fast", temporal.fast, "temporal")
_register("stutter_hold", temporal.stutter_hold, "temporal")
_register("shuffle", temporal.shuffle, "temporal")
# From the released code.
_register("rotate_90", spatial.rotate_90, "spatial")
_register("rotate_270", spatial.rotate_270, "spatial")
_register("swap", swap.swap, "spatial", needs_other_video=True)

# Paper: the 4 perturbations used for training (best on Video-MME) and VIUBench's 5.
TRAINING_PERTURBATIONS = ("channel_swap", "rotate_180", "zoom_out", "mirror")
VIUBENCH_PERTURBATIONS = TRAINING_PERTURBATIONS + ("shuffle",)

__all__ = ["PERTURBATIONS", "Perturbation", "Segment", "TRAINING_PERTURBATIONS", "VIUBENCH_PERTURBATIONS"]
