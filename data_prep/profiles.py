"""Generator profiles: named presets of the generator options a mix can set (``options:``).

A build picks one profile (mix key ``profile:``, or ``python -m data_prep build --profile``); the
mix's own ``options:`` then override single values. The build records both and the dataset card
prints them, with the label-quality figures of ``data_prep.label_quality``.

==================  ===================================  =======================================
option              ``paper`` (default)                  ``verified``
==================  ===================================  =======================================
counting placement  ``released``: up to 20 tries for a   ``spaced``: centres at least one size
                    centre one size away from the        apart, retried until they fit, and the
                    frame's other centres, then the      whole shape inside the frame: no shape
                    last try is kept even if it          hides another, so the count is
                    overlaps (integer sizes)             verifiable from the pixels
noise / zoom        strength / factor drawn per FRAME    drawn once per segment
zoom resampling     LANCZOS                              BICUBIC
noise / blur scale  as if applied at the source          sigma / radius in stored-frame pixels
                    resolution (``at_source``)
shuffle             plain random order (frames may       a derangement: every frame moves
                    stay in place, 2/t at the edges)
stutter-hold        k ~ U{2..5} frames at                each hold shows the frame before its
                    ``linspace(0, t-1, k)``, repeated    block, so every position differs from
                    t//k times (+1 for the first t%k)    the original
==================  ===================================  =======================================

``paper`` reproduces the released generators' distributions (the reference section "Exact
parity"). Its labels are not always verifiable from the pixels: a shuffled frame left in place, or
the first held frame of a stutter, shows the original frame at the interval's edge, and a shape
drawn over another hides part of the count. ``verified`` removes both; the dataset card measures
the difference (overlapping-shape frames, rows whose first or last perturbed frame is the original).

Both profiles perturb the stored frames and save new frames at the frames folder's own JPEG
quality (the released scripts perturbed source-resolution frames and saved them at PIL's default
q75 for grounding, OpenCV's q95 for counting; the frames stage stores only the training and
evaluation tiers, and a different quality on the changed frames alone would be a cue).

>>> effective_options("paper", {"counting": {"levels": {"hard": [5, 5]}}})["counting"]["placement"]
'released'
>>> effective_options("verified", {})["grounding"]["perturbation_args"]["shuffle"]
{'derangement': True}
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

DEFAULT_PROFILE = "paper"

# One line per profile, as the dataset card states it.
SUMMARIES = {
    "paper": "the released generators, so the data matches the paper's (reproduction)",
    "verified": "every label verifiable from the pixels (no overlapping shapes, no perturbed frame left "
    "identical to the original)",
}

PROFILES: dict[str, dict[str, Any]] = {
    "paper": {
        "grounding": {
            "perturbation_args": {
                "noise": {"per_frame": True, "at_source": True},
                "blur": {"at_source": True},
                "zoom_in": {"per_frame": True, "resample": "lanczos"},
                "zoom_out": {"per_frame": True, "resample": "lanczos"},
                "shuffle": {"derangement": False},
                "stutter_hold": {"rule": "linspace"},
            }
        },
        "counting": {"placement": "released"},
    },
    "verified": {
        "grounding": {
            "perturbation_args": {
                "noise": {"per_frame": False, "at_source": False},
                "blur": {"at_source": False},
                "zoom_in": {"per_frame": False, "resample": "bicubic"},
                "zoom_out": {"per_frame": False, "resample": "bicubic"},
                "shuffle": {"derangement": True},
                "stutter_hold": {"rule": "hold_before"},
            }
        },
        "counting": {"placement": "spaced"},
    },
}


def check_profile(name: str) -> str:
    """``name`` if it is a profile; ``ValueError`` listing the profiles otherwise."""
    if name not in PROFILES:
        raise ValueError(f"unknown generator profile {name!r}; known: {sorted(PROFILES)}")
    return name


def effective_options(profile: str, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The profile's options with a mix's ``options:`` merged over them (mappings merged key by key)."""
    merged = copy.deepcopy(PROFILES[check_profile(profile)])
    _merge(merged, overrides or {})
    return merged


def _merge(base: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
