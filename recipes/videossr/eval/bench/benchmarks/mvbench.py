"""MVBench: 20 temporal tasks x 200 multiple-choice questions (Table 2, General Video QA).

Release: the Hugging Face dataset ``OpenGVLab/MVBench``, branch ``main``, as downloaded and with
the zips under ``video/`` unpacked in place: ``json/<task>.json`` (one list per task:
``video``, ``question``, ``candidates``, ``answer`` = the right option's TEXT, and for the bounded
tasks ``start``/``end`` in seconds) and ``video/<source folder>/<video>``. The task -> folder map
is the one of the official evaluation (Ask-Anything ``mvbench.ipynb`` ``data_list``; VLMEvalKit
``MVBench``), see ``TASKS``. Files replaced by the release's ``video/data0613.zip`` (star, clevrer)
are used from ``video/data0613/<folder>/`` when the main folder lacks them.

Rules:
- the answer letter is the index of ``answer`` in ``candidates`` (it must occur exactly once);
  the candidates are written into the question one per line (``protocol.with_options``);
- the 4 video tasks with a time bound (action_sequence, action_prediction, object_interaction,
  action_localization) read the whole source video cut to ``[start, end]`` by qwen-vl-utils: the
  item passes ``video_start``/``video_end`` (``Item.clip``);
- episodic_reasoning is released as folders of JPEG frames at 3 fps (``tvqa/frames_fps3_hq/<video>/``)
  plus ``start``/``end``: the runner reads video files, so the item points to
  ``tvqa/frames_fps3_hq/<video>.mp4``, the folder encoded at 3 fps (``ffmpeg -framerate 3 -i
  <video>/%05d.jpg <video>.mp4``, as VLMEvalKit does), cut by ``video_start``/``video_end`` too;
- fine_grained_pose videos (NTU RGB+D, ``video/nturgbd/*.avi``) are no longer in the release
  (``video/MVBench_videos_ntu.txt`` lists them): they must be obtained from NTU RGB+D;
- video names keep their own extensions (``.mp4``, ``.webm``, ``.avi``, ...): released vqa.py
  appended ``.mp4`` to every name, which only works on a re-encoded copy;
- ``group`` = task; ``id`` = ``<task>/<position in its json>`` (the release has no question ids).
"""

from __future__ import annotations

from pathlib import Path

from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require

RELEASE = "Hugging Face dataset OpenGVLab/MVBench (branch main: json/ + video/*.zip unpacked in video/)"

# task (json/<task>.json) -> (folder under video/, time-bounded)
TASKS = {
    "action_sequence": ("star/Charades_v1_480", True),
    "action_prediction": ("star/Charades_v1_480", True),
    "action_antonym": ("ssv2_video", False),
    "fine_grained_action": ("Moments_in_Time_Raw/videos", False),
    "unexpected_action": ("FunQA_test/test", False),
    "object_existence": ("clevrer/video_validation", False),
    "object_interaction": ("star/Charades_v1_480", True),
    "object_shuffle": ("perception/videos", False),
    "moving_direction": ("clevrer/video_validation", False),
    "action_localization": ("sta/sta_video", True),
    "scene_transition": ("scene_qa/video", False),
    "action_count": ("perception/videos", False),
    "moving_count": ("clevrer/video_validation", False),
    "moving_attribute": ("clevrer/video_validation", False),
    "state_change": ("perception/videos", False),
    "fine_grained_pose": ("nturgbd", False),
    "character_order": ("perception/videos", False),
    "egocentric_navigation": ("vlnqa", False),
    "episodic_reasoning": ("tvqa/frames_fps3_hq", True),
    "counterfactual_inference": ("clevrer/video_validation", False),
}
FRAME_TASKS = {"episodic_reasoning"}  # released as frame folders (3 fps): read as <folder>.mp4
REPLACEMENTS = "data0613"  # video/data0613.zip: replaced star / clevrer files


def _video_path(video_dir: Path, task: str, name: str) -> Path:
    folder = TASKS[task][0]
    if task in FRAME_TASKS:
        return video_dir / folder / f"{name.rstrip('/')}.mp4"
    path = video_dir / folder / name
    replaced = video_dir / REPLACEMENTS / folder / name
    return replaced if not path.exists() and replaced.exists() else path


def load(root: Path) -> list[Item]:
    files = require(root, *(f"json/{task}.json" for task in TASKS), "video", what=f"download {RELEASE}")
    video_dir = files[-1]
    items = []
    for task, path in zip(TASKS, files):
        rows = read_json(path, list, "a list of questions")
        bounded = TASKS[task][1]
        for n, row in enumerate(rows):
            where = f"{path} item {n}"
            try:
                video, question, answer = str(row["video"]), str(row["question"]), str(row["answer"])
                candidates = [str(c) for c in row["candidates"]]
            except (KeyError, TypeError) as error:
                raise ValueError(f"{where}: missing field {error}") from None
            if candidates.count(answer) != 1:
                raise ValueError(f"{where}: answer {answer!r} is not exactly one of the candidates {candidates}")
            clip = {}
            if bounded:
                try:
                    clip = {"video_start": float(row["start"]), "video_end": float(row["end"])}
                except (KeyError, TypeError, ValueError):
                    raise ValueError(f"{where}: a {task} question needs numeric start/end") from None
                if not clip["video_start"] < clip["video_end"]:
                    raise ValueError(f"{where}: start {clip['video_start']} is not before end {clip['video_end']}")
            items.append(Item(
                id=f"{task}/{n:03d}",
                videos=(str(_video_path(video_dir, task, video)),),
                question=protocol.with_options(question, candidates),
                answer=protocol.letter_of(candidates.index(answer)),
                group=task,
                clip=clip,
                meta={"video": video},
            ))
    return items


BENCHMARK = Benchmark(
    name="mvbench",
    title="MVBench",
    domain="General Video QA",
    kind="mc",
    release=RELEASE,
    split="all 20 tasks (json/<task>.json, 4,000 questions)",
    layout="json/<task>.json, video/<folder>/<video> (folders per task: MVBench DATA_LIST; "
           "episodic_reasoning: video/tvqa/frames_fps3_hq/<video>.mp4 encoded from its 3 fps frame folder; "
           "fine_grained_pose: video/nturgbd/*.avi from NTU RGB+D)",
    load=load,
    rule="answer text -> letter by candidate index; candidates written as 'A. text' lines; "
         "bounded tasks cut with video_start/video_end; group = task",
    source="OpenGVLab/MVBench json + Ask-Anything mvbench.ipynb data_list (task -> folder, bound); "
           "prompt and first-character parser from the released vqa.py",
    lmms_task="mvbench",
    lmms_note="branch 'video' (pre-cut *_segment mp4s); prompt 'Question:..Option:\\n(A) ..Only give the best "
              "option.'; letter extraction; empty predictions leave the denominator",
)
