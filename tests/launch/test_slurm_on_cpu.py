"""launch/slurm/train.sbatch runs for real in bash against fake srun/scontrol/ray/hostname/ip on PATH.

The fakes record every call in one log (``tool|node|args``; srun logs its own options too);
``ray start`` registers its node in a state folder that ``ray status`` reports in Ray's own
output layout, unless the node is listed in FAKE_NEVER_JOIN (a node that cannot reach the head).
FAKE_NODE_GPUS / FAKE_NODE_CPUS ("node2=2 ...") make a node register that many GPUs / CPUs instead
of ``--num-gpus`` / ``--num-cpus``; without ``--num-cpus`` a node registers the one CPU a step
without ``--cpus-per-task`` sees. FAKE_HOSTNAME_I and FAKE_ROUTE_SRC set what ``hostname -I`` and
``ip route get`` print (a Debian image whose only non-loopback address comes from the route, or
none at all).
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
all="$*"
while (( $# )); do
  case "$1" in
    -w|--nodelist) node="$2"; shift 2 ;;
    -N|-n|--nodes|--ntasks) shift 2 ;;
    --*) shift ;;
    *) break ;;
  esac
done
echo "srun|$node|$all" >> "$FAKE_LOG"
export FAKE_NODE="$node" FAKE_SRUN_CPUS="${SRUN_CPUS_PER_TASK:-}"
exec "$@"
""",
    "hostname": """#!/usr/bin/env bash
n="${FAKE_NODE//[!0-9]/}"
case "$1" in
  -I) echo "${FAKE_HOSTNAME_I-10.0.0.$n 172.17.0.1}" ;;
  --ip-address|-i) echo "127.0.1.1" ;;  # as /etc/hosts has it on Debian and Ubuntu images
  *) echo "node$n" ;;
esac
""",
    "ip": """#!/usr/bin/env bash
echo "ip|$FAKE_NODE|$*" >> "$FAKE_LOG"
[[ "$1 $2 $3" == "-o route get" ]] && echo "$4 via 10.0.0.254 dev eth0 src ${FAKE_ROUTE_SRC-10.0.0.9} uid 0"
""",
    "ray": """#!/usr/bin/env bash
echo "ray|$FAKE_NODE|$*" >> "$FAKE_LOG"
case "$1" in
  start)
    [[ " $FAKE_NEVER_JOIN " == *" $FAKE_NODE "* ]] && exec sleep 30
    cpus=1  # what Ray sizes itself to inside a step without --cpus-per-task
    for a in "$@"; do [[ "$a" == --num-gpus=* ]] && gpus="${a#--num-gpus=}"; [[ "$a" == --num-cpus=* ]] && cpus="${a#--num-cpus=}"; done
    for pair in $FAKE_NODE_GPUS; do [[ "${pair%%=*}" == "$FAKE_NODE" ]] && gpus="${pair#*=}"; done
    for pair in $FAKE_NODE_CPUS; do [[ "${pair%%=*}" == "$FAKE_NODE" ]] && cpus="${pair#*=}"; done
    echo "$gpus $cpus" > "$FAKE_STATE/$FAKE_NODE"
    exec sleep 30 ;;
  status)
    [[ "$*" == *"--address=${FAKE_HEAD:-10.0.0.1:6379}"* ]] || { echo "no cluster at that address" >&2; exit 1; }
    total=0; cpus=0; echo "Active:"
    for f in "$FAKE_STATE"/*; do
      [[ -f "$f" ]] || continue; read -r g c < "$f"
      echo " 1 node_$(basename "$f")"; total=$(( total + g )); cpus=$(( cpus + c ))
    done
    printf 'Pending:\\n (no pending nodes)\\nRecent failures:\\n (no failures)\\n\\nResources\\nUsage:\\n 0.0/%s.0 CPU\\n 0.0/%s.0 GPU (0.0 used of 0.0 reserved in placement groups)\\n 0B/10.00GiB memory\\n' "$cpus" "$total" ;;
  stop) rm -f "$FAKE_STATE/$FAKE_NODE" ;;
esac
""",
    "fake_train": """#!/usr/bin/env bash
echo "train|$FAKE_NODE|RAY_ADDRESS=$RAY_ADDRESS NNODES=$NNODES N_GPUS=$N_GPUS|$*" >> "$FAKE_LOG"
""",
}


def run_sbatch(tmp_path: Path, nodes: list[str], never_join: str = "", timeout_s: str = "20", args=(),
               node_gpus: str = "", **extra_env: str):
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name, text in FAKES.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SRUN_", "HEAD_IP", "CPUS_PER"))},
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
        "SLURM_CPUS_PER_TASK": "16",
        **extra_env,
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


def test_every_step_and_every_ray_node_gets_the_jobs_cpus(tmp_path):
    nodes = ["node1", "node2"]
    proc, calls = run_sbatch(tmp_path, nodes)
    assert proc.returncode == 0, proc.stderr
    sruns = _calls(calls, "srun")
    assert sruns and all("--cpus-per-task=16" in c[2] for c in sruns)
    starts = _calls(calls, "ray", startswith="start")
    assert len(starts) == 2 and all("--num-cpus=16" in c[2] and "--num-gpus=4" in c[2] for c in starts)
    assert "all 2 nodes joined (8 GPUs, 32 CPUs)" in proc.stderr


def test_a_cluster_short_of_cpus_stops_before_training(tmp_path):
    # A node whose Ray got one CPU (a step without --cpus-per-task): verl's bundles never schedule.
    proc, calls = run_sbatch(tmp_path, ["node1", "node2"], FAKE_NODE_CPUS="node1=1 node2=1")
    assert proc.returncode != 0
    assert "Ray sees 2 CPUs for 8 GPUs" in proc.stderr
    assert _calls(calls, "train") == []


@pytest.mark.parametrize("cpus, message", [("", "submit with --cpus-per-task"), ("2", "2 CPUs per node for 4 GPUs")])
def test_missing_or_too_few_cpus_per_task_fail_at_once(tmp_path, cpus, message):
    proc, calls = run_sbatch(tmp_path, ["node1"], SLURM_CPUS_PER_TASK=cpus)
    assert proc.returncode != 0 and message in proc.stderr
    assert _calls(calls, "ray", startswith="start") == []


def test_the_head_address_is_routable_not_debians_loopback(tmp_path):
    # `hostname --ip-address` says 127.0.1.1 here; the head must announce 10.0.0.1.
    proc, calls = run_sbatch(tmp_path, ["node1", "node2"])
    assert proc.returncode == 0, proc.stderr
    head = _calls(calls, "ray", startswith="start --head")[0][2]
    assert "--node-ip-address=10.0.0.1 " in head


def test_without_hostname_addresses_the_default_routes_source_is_used(tmp_path):
    proc, calls = run_sbatch(tmp_path, ["node1"], FAKE_HOSTNAME_I="127.0.1.1", FAKE_ROUTE_SRC="10.0.0.1")
    assert proc.returncode == 0, proc.stderr
    assert _calls(calls, "ip", "node1", "-o route get")
    assert "--node-ip-address=10.0.0.1 " in _calls(calls, "ray", startswith="start --head")[0][2]


def test_a_loopback_head_address_is_refused_at_once(tmp_path):
    proc, calls = run_sbatch(tmp_path, ["node1", "node2"], FAKE_HOSTNAME_I="", FAKE_ROUTE_SRC="127.0.0.1", timeout_s="30")
    assert proc.returncode != 0
    assert "resolves to the loopback address 127.0.0.1" in proc.stderr and "set HEAD_IP" in proc.stderr
    assert _calls(calls, "ray", startswith="start") == []  # no 10-minute wait for unreachable workers
    (tmp_path / "override").mkdir()
    proc, calls = run_sbatch(tmp_path / "override", ["node1"], HEAD_IP="127.0.0.1")
    assert proc.returncode != 0 and "loopback" in proc.stderr


def test_head_ip_overrides_the_resolved_address(tmp_path):
    proc, calls = run_sbatch(tmp_path, ["node1", "node2"], HEAD_IP="10.0.0.7", FAKE_HEAD="10.0.0.7:6379")
    assert proc.returncode == 0, proc.stderr
    assert "--node-ip-address=10.0.0.7 " in _calls(calls, "ray", startswith="start --head")[0][2]
    assert _calls(calls, "ray", "node2", "start --address=10.0.0.7:6379")
    assert _calls(calls, "ip") == []
