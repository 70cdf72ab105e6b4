"""The GPU check's bundle (issue 23) on CPU: built here, run here in dry-run mode as the GPU machine runs it.

The GPU machine the project can be checked on has torch + transformers but no vLLM, verl, Ray or
flash-attn, and takes files as one transfer of at most 64 MiB. ``smoke_lib.build_bundle`` builds the
actor inputs with verl's agent-loop worker of the recipe config (this environment) and
``gpu_side.py`` runs them there. Here: the archive fits, is deterministic and self-contained; the
runner imports nothing the GPU machine lacks (a subprocess in which verl, ray, vllm, flash_attn,
qwen_vl_utils and this repository's packages are unimportable runs the whole ``run.sh --dry-run``
from the unpacked archive); its recomputed video inputs equal the worker's; every family x task row
is measured.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SAMPLES = 8  # 2 families x 4 tasks

# Run by every Python process of a blocked subprocess (sitecustomize is imported at start-up from
# PYTHONPATH). ``sys.modules[name] = None`` is what "not installed" looks like to the code: ``import``
# raises ModuleNotFoundError and ``importlib.util.find_spec`` returns None (transformers probes
# optional packages that way, so a finder that raises would fail where the GPU machine does not).
SITECUSTOMIZE = """\
import sys
BLOCKED = {blocked!r}
for _name in BLOCKED:
    sys.modules[_name] = None
"""


def blocked_env(tmp_path: Path, smoke_lib) -> dict[str, str]:
    block = tmp_path / "block"
    block.mkdir(exist_ok=True)
    (block / "sitecustomize.py").write_text(SITECUSTOMIZE.format(blocked=smoke_lib.gpu_side.NOT_ON_THE_GPU_MACHINE))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPU_SMOKE_")}
    env.update(PYTHONPATH=str(block), PYTHON=sys.executable, PYTHONDONTWRITEBYTECODE="1")
    return env


@pytest.fixture(scope="module")
def bundle(smoke_lib, cpu_smoke_inputs, tmp_path_factory):
    work = cpu_smoke_inputs.parquet.parents[1]  # the prepared inputs (shared with the helper checks)
    return smoke_lib.build_bundle(tmp_path_factory.mktemp("gpu_bundle"), work_dir=work)


@pytest.fixture(scope="module")
def unpacked(bundle, tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("gpu_machine")
    with tarfile.open(bundle.archive) as tar:
        tar.extractall(where, filter="data")
    return where / "gpu_smoke_bundle"


def _imports(nodes) -> set[str]:
    found = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Import):
                found |= {alias.name.split(".")[0] for alias in sub.names}
            elif isinstance(sub, ast.ImportFrom) and sub.module and not sub.level:
                found.add(sub.module.split(".")[0])
    return found


def test_the_runner_imports_only_what_the_gpu_machine_has(smoke_lib):
    """Statically: gpu_side.py imports the standard library, torch, transformers, numpy and PIL; vLLM
    only inside a ``try`` that reports it missing (the vLLM line)."""
    allowed = {"torch", "transformers", "numpy", "PIL", "__future__"} | set(sys.stdlib_module_names)
    tree = ast.parse((HERE / "gpu_side.py").read_text())
    tries = [node for node in ast.walk(tree) if isinstance(node, ast.Try)]
    probed = _imports(stmt for node in tries for stmt in node.body)
    assert probed - allowed == {"vllm"}
    assert all(any(isinstance(h.type, ast.Name) and h.type.id in ("Exception", "ImportError") for h in node.handlers)
               for node in tries if _imports(node.body) & {"vllm"})
    body = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    in_try = {id(sub) for node in tries for stmt in node.body for sub in ast.walk(stmt)}
    imported = _imports(n for n in body if id(n) not in in_try)
    assert imported - allowed == set(), imported - allowed
    assert not set(smoke_lib.gpu_side.NOT_ON_THE_GPU_MACHINE) & imported


def test_the_runner_loads_with_verl_ray_vllm_unimportable(smoke_lib, tmp_path):
    code = (
        "import importlib.util, sys\n"
        "for name in ('verl', 'ray', 'vllm', 'recipes'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except ImportError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit(f'{name} is importable: the blocker does not work')\n"
        f"spec = importlib.util.spec_from_file_location('gpu_side', {str(HERE / 'gpu_side.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "print(m.vllm_status())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env=blocked_env(tmp_path, smoke_lib), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == repr((False, smoke_lib.gpu_side.VLLM_SKIPPED))
    assert smoke_lib.gpu_side.VLLM_SKIPPED == ("vLLM part SKIPPED: vllm not importable on this machine (the full "
                                               "check runs on a GPU node with `pip install -e '.[gpu]'`)")


def test_bundle_is_one_small_deterministic_self_contained_archive(bundle, smoke_lib, tmp_path):
    assert bundle.archive_bytes < 64 * 2**20 and bundle.folder_bytes < 64 * 2**20
    with tarfile.open(bundle.archive) as tar:
        members = tar.getmembers()
        names = {m.name.removeprefix("gpu_smoke_bundle/") for m in members}
        assert all(m.name.startswith("gpu_smoke_bundle/") and m.isfile() for m in members)
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
        # the archive holds exactly the folder's files
        assert names == {p.relative_to(bundle.folder).as_posix() for p in bundle.folder.rglob("*") if p.is_file()}
        assert tar.extractfile("gpu_smoke_bundle/gpu_side.py").read() == (HERE / "gpu_side.py").read_bytes()
    assert {"run.sh", "smoke.sh", "gpu_side.py", "manifest.json"} <= names
    for family in smoke_lib.FAMILIES:
        assert {f"models/{family}/{n}" for n in ("config.json", "tiny_config.json", "tokenizer.json",
                                                  "processor_config.json", "chat_template.jinja")} <= names
    assert not [n for n in names if n.endswith((".safetensors", ".bin", ".pt", ".pth", ".npy", ".npz"))]
    assert sum(n.startswith("frames/") and n.endswith(".jpg") for n in names) > 48  # the clips, as JPEG files

    manifest = bundle.manifest
    assert json.loads((bundle.folder / "manifest.json").read_text()) == manifest
    assert len(manifest["samples"]) == SAMPLES
    assert {(s["family"], s["data_source"]) for s in manifest["samples"]} == {
        (f, t) for f in smoke_lib.FAMILIES for t, _ in smoke_lib.TASKS}
    text = (bundle.folder / "manifest.json").read_text()
    assert str(bundle.folder.parent) not in text and "/tmp" not in text  # relative paths only
    for sample in manifest["samples"]:
        clips = {"videossr/jigsaw/n6": 6, "videossr/jigsaw/n8": 8}.get(sample["data_source"], 1)
        assert len(sample["clips"]) == clips == len(sample["expected"]["video_grid_thw"])
        assert sum(len(c["frames"]) for c in sample["clips"]) == 48
        ids = json.loads((bundle.folder / sample["ids"]).read_text())
        assert len(ids["position_ids"]) == 4 and len(ids["position_ids"][0]) == len(ids["input_ids"])
        assert len(ids["input_ids"]) - ids["prompt_len"] == len(ids["response_mask"]) == smoke_lib.RESPONSE_TOKENS
        assert ids["position_ids"][0] == list(range(len(ids["input_ids"])))  # verl's text row
    # same folder, same bytes (sorted members, no times, no owners)
    again = smoke_lib.write_archive(bundle.folder, tmp_path / "again.tar.gz")
    assert again == bundle.archive_bytes and (tmp_path / "again.tar.gz").read_bytes() == bundle.archive.read_bytes()


def test_bundle_size_limit_fails_clearly(smoke_lib):
    smoke_lib.check_bundle_size(10, 20)
    with pytest.raises(RuntimeError, match="too large for one transfer.*64 MiB"):
        smoke_lib.check_bundle_size(64 * 2**20, 1)
    with pytest.raises(RuntimeError, match="folder 70 bytes"):
        smoke_lib.check_bundle_size(1, 70, max_bytes=64)


def test_fingerprints_accept_rounding_and_refuse_other_pixels(smoke_lib):
    import torch

    gs = smoke_lib.gpu_side
    values = torch.linspace(-2, 2, 6912 * 1176).reshape(6912, 1176)
    expected = gs.fingerprint(values)
    assert gs.compare_fingerprints(expected, gs.fingerprint(values.clone()))["identical"]
    rounded = gs.compare_fingerprints(expected, gs.fingerprint(values + 1e-7))
    assert rounded["ok"] and not rounded["identical"]
    assert not gs.compare_fingerprints(expected, gs.fingerprint(values * 1.01))["ok"]
    assert not gs.compare_fingerprints(expected, gs.fingerprint(values[:-4]))["ok"]


def test_dry_run_of_the_unpacked_bundle_without_verl_ray_vllm(unpacked, smoke_lib, tmp_path):
    """``run.sh --dry-run`` from the unpacked archive, in processes where verl, ray, vllm (and this
    repository) cannot be imported: inputs recomputed and verified, every row measured."""
    out = tmp_path / "out"
    env = {**blocked_env(tmp_path, smoke_lib), "GPU_SMOKE_OUT": str(out)}
    env.pop("OMP_NUM_THREADS", None)  # the runner's dry-run default (one thread)
    proc = subprocess.run(["bash", str(unpacked / "run.sh"), "--dry-run"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=400)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log + "".join(p.read_text()[-3000:] for p in (out / "logs").glob("*.log"))
    assert f"[gpu smoke] {smoke_lib.gpu_side.VLLM_SKIPPED}" in proc.stdout
    assert "[gpu smoke] PASSED" in proc.stdout
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| tiny ")]
    assert len(rows) == SAMPLES and all("| skipped (no vLLM) |" in row for row in rows)

    entries = json.loads((out / "gpu_smoke.json").read_text())["entries"]
    actor = [e for e in entries if e["part"] == "actor"]
    assert len(actor) == SAMPLES
    import math

    for e in actor:
        check = e["inputs_check"]
        # same transformers/torch as the build: the recomputed video inputs are the worker's, byte for byte
        assert check["ok"] and check["grid_equal"] and check["pixels_identical"], (e["family"], e["data_source"])
        assert e["response_tokens"] == smoke_lib.RESPONSE_TOKENS and e["dry_run"] and e["source"] == "bundle"
        assert e["grads_finite"] == {"vision": True, "text": True}
        assert abs(e["loss"] - math.log(e["vocab_size"])) < 0.5  # random weights: ~uniform
        assert e["gradient_checkpointing"] and e["attn_implementation"] == "sdpa"
    (device,) = [e for e in entries if e["part"] == "device"]
    assert device["verl"] is None and device["vllm"] is None  # verl is installed here: the blocker held
    prompts = {(e["family"], e["data_source"]): e["prompt_tokens"] for e in actor}
    assert prompts == {(s["family"], s["data_source"]): s["prompt_len"] for s in smoke_lib.gpu_side.read_manifest(
        unpacked)["samples"]}


def test_bundle_mode_without_a_gpu_skips_clearly(unpacked, smoke_lib, tmp_path):
    """No CUDA and no --dry-run: one SKIPPED line naming the dry run (exit 0, or 1 when a GPU is required)."""
    env = {**blocked_env(tmp_path, smoke_lib), "GPU_SMOKE_OUT": str(tmp_path / "out"), "GPU_SMOKE_REQUIRE_GPU": "1"}
    proc = subprocess.run(["bash", str(unpacked / "run.sh")], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "[gpu smoke] SKIPPED: no CUDA GPU" in proc.stdout and "--dry-run" in proc.stdout
    assert not (tmp_path / "out" / "gpu_smoke.json").exists()


def test_a_tampered_bundle_fails_the_input_check(unpacked, smoke_lib, tmp_path):
    """The GPU side refuses video inputs that are not the CPU machine's (here: an edited grid)."""
    gs = smoke_lib.gpu_side
    manifest = gs.read_manifest(unpacked)
    sample = next(s for s in manifest["samples"] if s["family"] == "qwen3_vl" and s["data_source"].endswith("n8"))
    inputs = gs.video_inputs(gs.load_processor(unpacked / "models" / "qwen3_vl"), unpacked, sample)
    assert gs.verify_sample(sample, inputs)["ok"]
    tampered = {**sample, "expected": {**sample["expected"], "video_grid_thw": [[2, 12, 20]] * 8}}
    check = gs.verify_sample(tampered, inputs)
    assert not check["ok"] and not check["grid_equal"] and check["pixels_ok"]


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                    reason="needs vLLM 0.24 in this environment (CPU is enough)")
@pytest.mark.parametrize("family", ["qwen3_vl", "qwen2_5_vl"])
def test_the_bundle_harness_builds_the_batch_trainer_harness_builds(family, smoke_lib, cpu_smoke_inputs):
    """Where vLLM imports (``.venv-vllm``): the bundle's worker (``actor_harness``, no vLLM server code)
    and ``TrainerHarness`` (verl's ``vLLMHttpServer.generate`` on a recording engine) give the actor the
    same batch: the server only answers, the batch is the worker's."""
    import torch

    model_dir = cpu_smoke_inputs.real_size[family]
    full = smoke_lib.harness(model_dir, cpu_smoke_inputs.parquet)
    bundled = smoke_lib.actor_harness(model_dir, cpu_smoke_inputs.parquet)
    assert type(full.worker) is type(bundled.worker)
    response = smoke_lib.response_ids(full.worker.tokenizer)
    for source, index in cpu_smoke_inputs.rows.items():
        a = smoke_lib.trainer_batch(full, index, response)
        b = smoke_lib.trainer_batch(bundled, index, response)
        assert a.prompt_len == b.prompt_len and torch.equal(a.input_ids, b.input_ids), source
        assert torch.equal(a.position_ids, b.position_ids), source
        assert a.multi_modal_inputs.keys() == b.multi_modal_inputs.keys()
        assert all(torch.equal(a.multi_modal_inputs[k], b.multi_modal_inputs[k]) for k in a.multi_modal_inputs)
