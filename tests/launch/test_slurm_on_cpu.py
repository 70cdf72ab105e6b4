"""launch/slurm/train.sbatch runs for real in bash against fake srun/scontrol/ray/hostname on PATH.

The fakes record every call in one log (``tool|node|args``); ``ray start`` registers its node in a
state folder that ``ray status`` reports in Ray's own output layout, unless the node is listed in
FAKE_NEVER_JOIN (a node that cannot reach the head). FAKE_NODE_GPUS ("node2=2 ...") makes a node
register that many GPUs instead of ``--num-gpus`` (a node whose GPUs Ray does not get).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SBATCH = ROOT / "launch" / "slurm" / "train.sbatch"

FAKES = {
    "scontrol": """#!/usr/bin/env bash
[[ "$1 $2" == "show hostnames" ]] || exit 2
printf '%s\\n' $FAKE_NODES
""",
    "srun": """#!/usr/bin/env bash
node=""
while (( $# )); do
  case "$1" in
    -w|--nodelist) node="$2"; shift 2 ;;
    -N|-n|--nodes|--ntasks) shift 2 ;;
    --*) shift ;;
    *) break ;;
  esac
done
echo "srun|$node|$*" >> "$FAKE_LOG"
export FAKE_NODE="$node"
exec "$@"
""",
    "hostname": """#!/usr/bin/env bash
echo "10.0.0.${FAKE_NODE//[!0-9]/}"
""",
    "ray": """#!/usr/bin/env bash
echo "ray|$FAKE_NODE|$*" >> "$FAKE_LOG"
case "$1" in
  start)
    [[ " $FAKE_NEVER_JOIN " == *" $FAKE_NODE "* ]] && exec sleep 30
    for a in "$@"; do [[ "$a" == --num-gpus=* ]] && gpus="${a#--num-gpus=}"; done
    for pair in $FAKE_NODE_GPUS; do [[ "${pair%%=*}" == "$FAKE_NODE" ]] && gpus="${pair#*=}"; done
    echo "$gpus" > "$FAKE_STATE/$FAKE_NODE"
    exec sleep 30 ;;
  status)
    [[ "$*" == *"--address=10.0.0.1:6379"* ]] || { echo "no cluster at that address" >&2; exit 1; }
    total=0; echo "Active:"
    for f in "$FAKE_STATE"/*; do [[ -f "$f" ]] || continue; echo " 1 node_$(basename "$f")"; total=$(( total + $(cat "$f") )); done
    printf 'Pending:\\n (no pending nodes)\\nRecent failures:\\n (no failures)\\n\\nResources\\nUsage:\\n 0.0/64.0 CPU\\n 0.0/%s.0 GPU\\n' "$total" ;;
  stop) rm -f "$FAKE_STATE/$FAKE_NODE" ;;
esac
""",
    "fake_train": """#!/usr/bin/env bash
echo "train|$FAKE_NODE|RAY_ADDRESS=$RAY_ADDRESS NNODES=$NNODES N_GPUS=$N_GPUS|$*" >> "$FAKE_LOG"
""",
}


def run_sbatch(tmp_path: Path, nodes: list[str], never_join: str = "", timeout_s: str = "20", args=(),
               node_gpus: str = ""):
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name, text in FAKES.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "SLURM_JOB_NODELIST": "node[1-%d]" % len(nodes),
        "FAKE_NODES": " ".join(nodes),
        "FAKE_LOG": str(log),
        "FAKE_STATE": str(state),
        "FAKE_NEVER_JOIN": never_join,
        "FAKE_NODE_GPUS": node_gpus,
        "REPO_ROOT": str(ROOT),
        "TRAIN_CMD": str(bin_dir / "fake_train"),
        "GPUS_PER_NODE": "4",
        "JOIN_TIMEOUT": timeout_s,
        "POLL_INTERVAL": "0.1",
    }
    proc = subprocess.run(["bash", str(SBATCH), *args], env=env, capture_output=True, text=True, timeout=60)
    calls = [line.split("|", 2) for line in log.read_text().splitlines()]
    return proc, calls


def _calls(calls, tool, node=None, startswith=""):
    return [c for c in calls if c[0] == tool and (node is None or c[1] == node) and c[2].startswith(startswith)]


@pytest.mark.parametrize("num_nodes", [1, 3])
def test_every_node_gets_one_worker_and_the_trainer_runs_once_on_the_head(tmp_path, num_nodes):
    nodes = [f"node{i}" for i in range(1, num_nodes + 1)]
    proc, calls = run_sbatch(tmp_path, nodes, args=("trainer.total_epochs=1",))
    assert proc.returncode == 0, proc.stderr

    heads = _calls(calls, "ray", startswith="start --head")
    assert [c[1] for c in heads] == ["node1"]
    workers = _calls(calls, "ray", startswith="start --address=10.0.0.1:6379")
    assert sorted(c[1] for c in workers) == nodes[1:]  # exactly one worker per non-head node

    trains = _calls(calls, "train")
    assert len(trains) == 1 and trains[0][1] == "node1"
    assert trains[0][2] == f"RAY_ADDRESS=10.0.0.1:6379 NNODES={num_nodes} N_GPUS=4|trainer.total_epochs=1"
    # Ray is stopped on every node when the job ends.
    assert sorted(c[1] for c in _calls(calls, "ray", startswith="stop")) == nodes


def test_a_node_that_never_joins_times_out_with_a_clear_error(tmp_path):
    nodes = ["node1", "node2", "node3"]
    proc, calls = run_sbatch(tmp_path, nodes, never_join="node3", timeout_s="1")
    assert proc.returncode != 0
    assert "only 2 of 3 nodes joined the Ray cluster at 10.0.0.1:6379 within 1s" in proc.stderr
    assert _calls(calls, "train") == []  # the trainer never starts on a partial cluster
    assert sorted(c[1] for c in _calls(calls, "ray", startswith="stop")) == nodes


@pytest.mark.parametrize("node2_gpus, seen", [("2", 10), ("6", 14)])
def test_a_gpu_count_other_than_requested_stops_before_training(tmp_path, node2_gpus, seen):
    # Fewer: verl would wait forever for its placement groups. More: the cluster is not the one
    # this job asked for (trainer.nnodes x n_gpus_per_node would not match it).
    nodes = ["node1", "node2", "node3"]
    proc, calls = run_sbatch(tmp_path, nodes, node_gpus=f"node2={node2_gpus}")
    assert proc.returncode != 0
    assert f"Ray sees {seen} GPUs but 3 x 4 were requested" in proc.stderr
    assert len(_calls(calls, "ray", startswith="start")) == 3  # every node joined; only the count is off
    assert _calls(calls, "train") == []
    assert sorted(c[1] for c in _calls(calls, "ray", startswith="stop")) == nodes


def test_outside_slurm_it_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SLURM_JOB_NODELIST"}
    proc = subprocess.run(["bash", str(SBATCH)], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "SLURM_JOB_NODELIST is not set" in proc.stderr
