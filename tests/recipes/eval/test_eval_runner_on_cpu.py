"""Failure accounting of the shared loop: every question ends as exactly one record.

The model is replaced by a scripted answer sheet here because what is under test is the loop and
the accounting (ok / unparsable / error / missing_video) with the real scorer; the real model
path is covered by test_viubench_on_cpu.py. A backend that returns too few answers is the real
transformers backend on the tiny Qwen3-VL with one answer dropped.
"""

from __future__ import annotations

import pytest

from recipes.videossr.eval.backends.base import GenerationSettings
from recipes.videossr.eval.backends.hf import HFBackend
from recipes.videossr.eval.runner import EvalSample, MissingInputs, run_samples
from recipes.videossr.eval.samples import RUN_FILE, SampleStore
from recipes.videossr.eval.scoring import viubench_scorer
from recipes.videossr.eval.table import results_row
from recipes.videossr.eval.viubench import load_rows, to_sample


class AnswerSheet:
    """Answers by question text; raises for the text "boom" (like a decode/OOM failure)."""

    name = "sheet"

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def generate(self, conversations):
        self.calls.append(len(conversations))
        texts = [c[0]["content"] for c in conversations]
        if "boom" in texts:
            raise RuntimeError("decoder exploded")
        return [self.answers[t] for t in texts]


def sample(i: str, ds: str, truth: str, media) -> EvalSample:
    return EvalSample(i, ds, [{"role": "user", "content": i}], media, truth, i)


def test_every_failure_counts_as_zero(tmp_path):
    frame = tmp_path / "f.jpg"
    frame.write_bytes(b"x")
    samples = [
        sample("q1", "videossr/counting/easy", "3,1,4", [str(frame)]),
        sample("q2", "videossr/counting/easy", "3,1,4", [str(frame)]),
        sample("boom", "videossr/counting/easy", "3,1,4", [str(frame)]),
        sample("q4", "videossr/counting/easy", "3,1,4", [str(tmp_path / "gone.jpg")]),
        sample("q5", "videossr/jigsaw/n6", "341562", [str(frame)]),
    ]
    sheet = AnswerSheet({"q1": "3,1,4", "q2": "no idea", "q5": "341562"})
    store = SampleStore(tmp_path / "run", {"m": 1})
    records = run_samples(samples, lambda: sheet, store, viubench_scorer(), batch_size=4, progress=False,
                          missing_as_zero=True)
    status = {r["id"]: r["status"] for r in records}
    assert status == {"q1": "ok", "q2": "unparsable", "boom": "error", "q4": "missing_video", "q5": "ok"}
    assert [r["id"] for r in records] == ["q1", "q2", "boom", "q4", "q5"]
    assert "decoder exploded" in records[2]["error"] and "gone.jpg" in records[3]["error"]
    # the failing batch (4 questions: the missing video never reaches the model) is retried one by one
    assert sheet.calls == [4, 1, 1, 1, 1]
    row = results_row("m", records)
    assert row.values["Cnt-E"] == pytest.approx(25.0)  # 1 right out of 4, failures in the denominator
    assert row.counts["videossr/counting/easy"] == {"n": 4, "ok": 1, "unparsable": 1, "error": 1, "missing_video": 1}


def test_missing_inputs_stop_the_run_unless_scored_as_zero(tmp_path):
    """A run with missing inputs is not a result: it stops before the model loads, with the count
    and the fix; asked to score them 0 it records them, and once the file is back it asks them."""
    frame = tmp_path / "f.jpg"
    frame.write_bytes(b"x")
    gone = tmp_path / "gone.jpg"
    samples = [sample("q1", "videossr/jigsaw/n6", "341562", [str(frame)]),
               sample("q2", "videossr/jigsaw/n6", "341562", [str(gone)])]
    sheet = AnswerSheet({"q1": "341562", "q2": "341562"})

    def model():
        raise AssertionError("the model was loaded for a run that cannot be a result")

    with pytest.raises(MissingInputs, match=r"1 of 2 questions have missing input files, e.g. .*gone.jpg \(HINT\)"
                                            r".*--score-missing-as-zero"):
        run_samples(samples, model, SampleStore(tmp_path / "run", {}), viubench_scorer(), progress=False,
                    missing_hint=lambda path: "HINT")
    assert not (tmp_path / "run" / RUN_FILE).exists()
    records = run_samples(samples, lambda: sheet, SampleStore(tmp_path / "run", {}), viubench_scorer(),
                          progress=False, missing_as_zero=True)
    assert [r["status"] for r in records] == ["ok", "missing_video"]
    gone.write_bytes(b"x")  # the frames are back (re-linked): a plain re-run asks the question
    records = run_samples(samples, lambda: sheet, SampleStore(tmp_path / "run", {}), viubench_scorer(), progress=False)
    assert [r["status"] for r in records] == ["ok", "ok"] and sheet.calls[-1] == 1


def test_finished_run_does_not_load_the_model(tmp_path):
    frame = tmp_path / "f.jpg"
    frame.write_bytes(b"x")
    samples = [sample("q1", "videossr/jigsaw/n6", "341562", [str(frame)])]
    store = SampleStore(tmp_path / "run", {})
    run_samples(samples, lambda: AnswerSheet({"q1": "341562"}), store, viubench_scorer(), progress=False)

    def no_model():
        raise AssertionError("model loaded for a finished run")

    again = run_samples(samples, no_model, SampleStore(tmp_path / "run", {}), viubench_scorer(), progress=False)
    assert again[0]["metric"] == 1.0


def test_duplicate_ids_are_refused(tmp_path):
    s = sample("q", "videossr/jigsaw/n6", "341562", [])
    with pytest.raises(ValueError, match="not unique"):
        run_samples([s, s], lambda: None, SampleStore(tmp_path, {}), viubench_scorer(), progress=False)


class LosesAnswers(HFBackend):
    """The real transformers backend, made faulty: it drops the last answer of every call, or with
    ``keep_singles`` only of calls with several conversations (a server losing one request of a batch)."""

    def __init__(self, model_path, keep_singles: bool):
        super().__init__(model_path, GenerationSettings(max_new_tokens=4, device="cpu"))
        self.keep_singles, self.calls = keep_singles, []

    def generate(self, conversations):
        self.calls.append(len(conversations))
        outputs = super().generate(conversations)
        return outputs if self.keep_singles and len(conversations) == 1 else outputs[:-1]


@pytest.mark.parametrize("keep_singles", [True, False])
def test_too_few_outputs_fail_the_batch_instead_of_dropping_samples(
    tmp_path, viubench_parquet, tiny_qwen3vl_dir, keep_singles
):
    samples = [to_sample(row, {}) for row in load_rows(viubench_parquet)[:2]]
    backend = LosesAnswers(str(tiny_qwen3vl_dir), keep_singles)
    records = run_samples(samples, lambda: backend, SampleStore(tmp_path / "run", {}), viubench_scorer(),
                          batch_size=2, progress=False)
    assert [r["id"] for r in records] == [s.id for s in samples]  # no sample silently lost
    assert backend.calls == [2, 1, 1]  # the short batch is retried one by one
    if keep_singles:
        # Each answer belongs to its own question: the one-by-one answers of the real model.
        assert all(r["status"] != "error" for r in records)
        one_by_one = [HFBackend.generate(backend, [s.messages])[0] for s in samples]
        assert [r["output"] for r in records] == one_by_one
    else:
        assert [r["status"] for r in records] == ["error", "error"]
        assert all("the backend returned 0 output(s) for 1 conversation(s)" in r["error"] for r in records)
