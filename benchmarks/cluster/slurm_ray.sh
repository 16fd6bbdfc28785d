#!/usr/bin/env bash
# The paper's Fig. 1 sweep on a Slurm allocation with Ray (issue #15): one Ray head on the first
# node, one Ray worker on each of the others, the sweep's driver on the first node.  The driver
# writes every result itself (the workers send them back), so only the first node needs to see
# --out; a rerun of this script resumes where the last one stopped.
#
#   sbatch benchmarks/cluster/slurm_ray.sh [CONFIG] [OUT]
#
# Adjust the #SBATCH lines to your cluster (partition, account, GPUs per node).
#SBATCH --job-name=infonce-bench
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=32
#SBATCH --time=12:00:00
set -euo pipefail

config=${1:-benchmarks/configs/fig1_gaussian.toml}
out=${2:-bench-results/$(basename "$config" .toml)}
port=6379
gpus=${SLURM_GPUS_ON_NODE:-4}
cpus=${SLURM_CPUS_PER_TASK:-32}

mapfile -t nodes < <(scontrol show hostnames "$SLURM_JOB_NODELIST")
head=${nodes[0]}
head_ip=$(srun --nodes=1 --ntasks=1 -w "$head" hostname --ip-address | awk '{print $1}')

srun --nodes=1 --ntasks=1 -w "$head" \
    ray start --head --node-ip-address="$head_ip" --port=$port \
    --num-cpus="$cpus" --num-gpus="$gpus" --block &
sleep 30
if [ "${#nodes[@]}" -gt 1 ]; then
    srun --nodes=$(( ${#nodes[@]} - 1 )) --ntasks=$(( ${#nodes[@]} - 1 )) --exclude="$head" \
        ray start --address="$head_ip:$port" --num-cpus="$cpus" --num-gpus="$gpus" --block &
    sleep 30
fi

# one GPU and 8 CPUs (8 torch threads) per unit: 4 units train at once on each node
infonce-anchor bench "$config" --out "$out" --executor ray --address "$head_ip:$port" \
    --gpus-per-unit 1 --cpus-per-unit 8 --retries 2 --group
