"""One ``launch/train.sh`` run as a child process: start, watch, measure, kill (tests/e2e, bench).

``TrainRun`` starts the launcher with ``DEVICE=cpu``, samples the memory of every process under it
once a second (proportional set size, so shared pages count once), and can SIGKILL the trainer's
process group (``train.sh`` starts the trainer with ``setsid``) to simulate a crash.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
TRAINER_MODULE = "verl.trainer.main_ppo"


@dataclass
class TrainRun:
    run_dir: Path
    model: Path
    data: Path
    overrides: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    python: str = sys.executable
    peak_pss: int = 0
    peak_rss: int = 0
    peak_processes: int = 0
    session: int | None = None  # the trainer's session (train.sh: setsid), once it started

    def start(self) -> "TrainRun":
        env = {**os.environ, "DEVICE": "cpu", "PYTHON": self.python, "MODEL_PATH": str(self.model),
               "DATA_DIR": str(self.data), "RUN_DIR": str(self.run_dir), **self.env}
        self.run_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.run_dir.parent / f"{self.run_dir.name}.launcher.log", "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(["bash", str(ROOT / "launch" / "train.sh"), *self.overrides], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        while self._sampling:
            pss = rss = count = 0
            try:
                procs = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
            except psutil.Error:
                procs = []
            for p in procs:
                try:
                    info = p.memory_full_info()
                    pss, rss, count = pss + info.pss, rss + info.rss, count + 1
                except psutil.Error:
                    continue
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self.peak_processes = max(self.peak_processes, count)
            if self.session is None:
                self.session = self.trainer_group()
            time.sleep(1.0)

    def trainer_group(self) -> int | None:
        """The trainer's process group and session id (its pid: train.sh starts it with setsid)."""
        try:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                if TRAINER_MODULE in " ".join(child.cmdline()):
                    return os.getpgid(child.pid)
        except psutil.Error:
            return None
        return None

    def kill_trainer(self) -> int:
        """SIGKILL the trainer's process group (a crash, an OOM kill of the driver and its direct
        children); Ray's and vLLM's workers in their own groups are the launcher's to clean up.
        Returns the run's session id."""
        group = self.trainer_group()
        if group is None:
            raise RuntimeError("no trainer process under train.sh to kill")
        self.session = group
        os.killpg(group, signal.SIGKILL)
        return group

    def kill_worker(self, name: str) -> int:
        """SIGKILL the run's processes whose title contains ``name`` (e.g. ``WorkerDict``: the FSDP
        actor's Ray worker), as a dead node or an OOM kill would; returns the run's session id."""
        session = self.trainer_group()
        if session is None:
            raise RuntimeError("no trainer process under train.sh")
        self.session = session
        victims = [p for p in psutil.process_iter(["pid", "cmdline"])
                   if _in_session(p.info["pid"], session) and name in " ".join(p.info["cmdline"] or [])]
        if not victims:
            raise RuntimeError(f"no process titled {name!r} in the run")
        for p in victims:
            os.kill(p.info["pid"], signal.SIGKILL)
        return session

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.elapsed = time.monotonic() - self.started
            self._sampling = False
            self._sampler.join(timeout=5)
            self.log.close()

    def stop(self) -> None:
        """Interrupt the launcher (it stops its trainer and cleans up); used when a check gives up."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _in_session(pid: int, session: int) -> bool:
    try:
        return os.getsid(pid) == session
    except (ProcessLookupError, PermissionError):
        return False


def session_processes(session: int) -> list[str]:
    """``"pid name"`` of every live process in ``session``."""
    out = []
    for p in psutil.process_iter(["pid", "name"]):
        try:
            if os.getsid(p.info["pid"]) == session:
                out.append(f"{p.info['pid']} {p.info['name']}")
        except (ProcessLookupError, PermissionError):
            continue
    return out
