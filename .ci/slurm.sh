#!/usr/bin/env bash
# The README's cluster recipe on a real single-node Slurm (Debian's
# slurm-wlm and munge): the daemons are started here, in a private state
# folder, and stopped at the end whatever happens.
#
#   bash .ci/slurm.sh BINARY
#
# It submits a reduced grid (the smoke preset, 8 runs, in arrays of 3 with
# --offset so that indices above the array size are used), stops one task
# mid-run with SIGTERM (as the time limit does) and requires it to requeue
# itself and finish from its state, resubmits what `sweep status` lists,
# merges, and requires the merged records to equal a local `sweep` of the
# same grid, number for number (timings aside). Then: two variants in one
# folder (merge refuses to mix them, status and report keep them apart), a
# run over its --time that requeues itself to completion bit-exact, a task
# cancelled by scancel that stays stopped, a `sweep plan --sbatch` script submitted with --export=NONE, and the grid
# through examples/slurm-submit.sh with a task killed outright (its
# watcher resubmits it, then merges).
#
# PRESET (a name or a .yaml file), SETS (its --set/--limit flags), BLOCK
# (tasks per array) and MAXARRAY (the cluster's MaxArraySize) choose
# another grid, e.g. a reduced paper grid of 1200 runs in blocks of 1000:
#   PRESET=grid.yaml SETS="" BLOCK=1000 MAXARRAY=1001 bash .ci/slurm.sh BINARY
set -euo pipefail
PRESET=${PRESET:-smoke}
read -r -a set_args <<<"${SETS---set epochs=20000 --set eval_every=2000}"
BLOCK=${BLOCK:-3}
MAXARRAY=${MAXARRAY:-4}
[ -f "$PRESET" ] && PRESET=$(readlink -f "$PRESET")
BIN=$(readlink -f "${1:?usage: bash .ci/slurm.sh BINARY}")
script=$(readlink -f "$(dirname "$0")/../examples/slurm-array.sh")
work=$(mktemp -d /tmp/reluscope-slurm.XXXXXX)
host=$(hostname -s)
cpus=${CPUS:-$(nproc)}   # more than nproc: more tasks at once (Slurm starts a few a cycle)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p "$work"/{state,spool,run,job}
conf="$work/slurm.conf"
cat > "$conf" <<CONF
ClusterName=reluscope-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
KillWait=30
MaxArraySize=$MAXARRAY
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$conf"
munged_pid=""
cleanup() {
  set +e
  [ -f "$work/run/slurmd.pid" ] && kill "$(cat "$work/run/slurmd.pid")"
  [ -f "$work/run/slurmctld.pid" ] && kill "$(cat "$work/run/slurmctld.pid")"
  [ -n "$munged_pid" ] && kill "$munged_pid"
  sleep 1
  if [ "${KEEP:-}" = "" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
# munge: a key of our own, a socket of our own.
dd if=/dev/urandom bs=1 count=1024 of="$work/munge.key" 2>/dev/null
chmod 400 "$work/munge.key"
mkdir -p "$work/munge"
munged --key-file="$work/munge.key" --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" -f
munged_pid=$(cat "$work/munge/munged.pid")
# Slurm's munge plugin reads the socket from the config.
sed -i "s|^AuthType=auth/munge|AuthType=auth/munge\nAuthInfo=socket=$work/munge/munge.socket|" "$conf"
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 1 60); do
  sinfo -h -o %T 2>/dev/null | grep -Eq 'idle|mixed' && break
  sleep 1
done

# drain waits for the queue to empty (10 minutes at most: a stuck job
# fails the check with the daemons' logs).
# Slurm holds a requeued job for two minutes (its EligibleTime), so that
# it is not launched while the node still refuses its revoked credential
# (a launch in the second of the revocation fails: "Job credential
# revoked"). release_requeued, called once a second, lets such a job start
# once it has been held 3 s, so that a run requeued several times does not
# spend the check's minutes waiting.
declare -A held
release_requeued() {
  local id
  for id in $(squeue -h -t PD -o "%i %r" | awk '$2 == "BeginTime" {print $1}'); do
    held[$id]=$(( ${held[$id]:-0} + 1 ))
    if [ "${held[$id]}" -ge 3 ]; then
      scontrol update JobId="$id" StartTime=now || true
      unset "held[$id]"
    fi
  done
}
drain() {
  for _ in $(seq 600); do
    [ -z "$(squeue -h)" ] && return 0
    release_requeued
    sleep 1
  done
  squeue; tail -20 "$work/slurmctld.log" "$work/slurmd.log"
  echo "slurm: jobs still queued after 10 minutes" >&2
  return 1
}
sinfo -h -o %T | grep -Eq 'idle|mixed' || { tail -20 "$work/slurmctld.log" "$work/slurmd.log"; echo "slurm: the node did not come up" >&2; exit 1; }

cd "$work/job"
shards="results/shards-$(basename "$PRESET" .yaml)"   # as examples/slurm-array.sh names it
export RELUSCOPE="$BIN"
# The README's commands, with a block of 3 (MaxArraySize=$MAXARRAY here).
mkdir -p logs
N=$("$BIN" sweep count "$PRESET" "${set_args[@]}")
for K in $(seq 0 "$BLOCK" $((N - 1))); do
  sbatch --cpus-per-task=1 --mem=500M --array=0-$(( N - K < BLOCK ? N - K - 1 : BLOCK - 1 )) "$script" "$PRESET" --offset "$K" "${set_args[@]}"
done
# Stop one running task mid-run, as its time limit would: SIGTERM to the
# task (the batch script execs reluscope), once some run saved a state.
for i in $(seq 1 600); do
  ls $shards/*.state >/dev/null 2>&1 && break
  sleep 0.1
done
# A task just started cannot be signalled yet ("try again later"): retry.
for _ in $(seq 20); do
  task=$(squeue -h -t R -o %i | head -1)
  [ -z "$task" ] && break
  if scancel --batch --signal=TERM "$task" 2>/dev/null; then
    echo "SIGTERM to task $task"
    break
  fi
  sleep 0.5
done
drain
# The stopped task requeued itself (examples/slurm-array.sh: exit 75, then
# scontrol requeue) and went on from its state: nothing is left to submit.
grep -h "requeued" logs/*.out || { echo "slurm: the stopped task did not requeue itself" >&2; exit 1; }
"$BIN" sweep status "$PRESET" $shards "${set_args[@]}" | tee status.txt
grep -q "$N finished, 0 failed, 0 in progress (a saved state), 0 missing" status.txt
# Resubmit what status lists (nothing here; the README's recipe for what a
# cluster lost).
{ grep '^  sbatch ' status.txt || true; } | sed "s|^  sbatch |sbatch --cpus-per-task=1 --mem=500M |; s|examples/slurm-array.sh|$script|" | while read -r line; do
  echo "$line"
  eval "$line"
done
drain
"$BIN" sweep status "$PRESET" $shards "${set_args[@]}" | tee status2.txt
grep -q "$N finished, 0 failed, 0 in progress (a saved state), 0 missing" status2.txt
grep -q '"resumed":true' $shards/*.jsonl || echo "note: the stopped task had no state yet (it started over)"
"$BIN" sweep merge --out merged.jsonl $shards
"$BIN" sweep "$PRESET" --out local "${set_args[@]}"
# Every record equals the local sweep's (merge reports copies that
# disagree, timings aside): N runs, each once in each.
"$BIN" sweep merge --out both.jsonl merged.jsonl local/results.jsonl 2> merge.txt
cat merge.txt
if grep -q "disagree" merge.txt || ! grep -q "merged $N records ($N duplicates dropped)" merge.txt; then
  echo "slurm: the merged records differ from the local sweep's" >&2
  exit 1
fi
echo "slurm: merged $N records equal the local sweep's"

# Two variants in one folder: two runs of the grid with --set width=8 go
# into the same shards. merge refuses to mix them; status counts each
# variant and names the other; report makes a table of each.
sbatch --cpus-per-task=1 --mem=500M --array=0-1 "$script" "$PRESET" --offset 0 "${set_args[@]}" --set width=8
drain
if "$BIN" sweep merge --out mixed.jsonl $shards 2> mixed.txt || ! grep -q "are of 2 variants" mixed.txt; then
  cat mixed.txt; echo "slurm: merge mixed two variants" >&2; exit 1
fi
"$BIN" sweep status "$PRESET" $shards "${set_args[@]}" | tee status3.txt
grep -q "$N finished, 0 failed, 0 in progress (a saved state), 0 missing" status3.txt
grep -q "also in $shards: 2 records of variant .*--set width=8 counts them" status3.txt
rc=0; "$BIN" sweep status "$PRESET" $shards "${set_args[@]}" --set width=8 > status4.txt || rc=$?
cat status4.txt
[ "$rc" = 3 ] && grep -q " 2 finished, 0 failed, 0 in progress (a saved state), $(( N - 2 )) missing" status4.txt ||
  { echo "slurm: the width-8 variant's status (exit $rc)" >&2; exit 1; }
"$BIN" sweep merge --variant all --allow-partial --out all.jsonl $shards
"$BIN" report all.jsonl > report.txt
[ "$(grep -c ", variant " report.txt)" = 2 ] || { cat report.txt; echo "slurm: the report does not make a table of each variant" >&2; exit 1; }
echo "slurm: two variants in one folder kept apart by merge, status and report"

# A run longer than its time limit: --time=1 (a minute), SIGTERM 45 s
# before it. Each submission computes until the signal, saves the run's
# state and requeues itself; the run finishes after several, with the bits
# of a run that was never stopped.
long=(--set width=128 --set epochs=500000 --set eval_every=50000)
mkdir -p "$work/limit/logs" && cd "$work/limit"
jid=$(sbatch --parsable --time=1 --signal=B:TERM@45 --cpus-per-task=1 --mem=500M --array=0 "$script" "$PRESET" --offset 0 "${set_args[@]}" "${long[@]}")
# Until its record is there, or the job has ended without one (scontrol
# knows a job that squeue, between its states, may not show).
for _ in $(seq 900); do
  ls results/shards-*/index-0000000-*.jsonl >/dev/null 2>&1 && break
  scontrol show job "$jid" 2>/dev/null | grep -Eq "JobState=(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) " && break
  release_requeued
  sleep 1
done
drain
ls results/shards-*/index-0000000-*.jsonl >/dev/null 2>&1 || { cat logs/*.out; scontrol show job "$jid"; grep -E "Requeu|JobId=$jid" "$work/slurmctld.log" | tail -20; echo "slurm: the time-limited run left no record" >&2; exit 1; }
requeues=$(cat logs/*.out | grep -c "requeued" || true)
echo "the time-limited run was requeued $requeues times"
[ "$requeues" -ge 1 ] || { cat logs/*.out; echo "slurm: the time-limited run was never requeued" >&2; exit 1; }
"$BIN" sweep run "$PRESET" --index 0 "${set_args[@]}" "${long[@]}" --out whole
"$BIN" sweep merge --out both.jsonl results/shards-*/ whole 2> merge.txt
cat merge.txt
if grep -q "disagree" merge.txt || ! grep -q "merged 1 records (1 duplicates dropped)" merge.txt; then
  echo "slurm: the time-limited run differs from a run never stopped" >&2
  exit 1
fi
echo "slurm: a run over its time limit finished after $requeues requeues, equal to a run never stopped"

# A task cancelled by its user (scancel: SIGTERM, the job CANCELLED) saves
# its state and stays stopped: it does not requeue itself.
mkdir -p "$work/cancel/logs" && cd "$work/cancel"
sbatch --cpus-per-task=1 --mem=500M --array=0 "$script" "$PRESET" --offset 0 "${set_args[@]}" "${long[@]}"
for _ in $(seq 1 600); do
  [ -n "$(squeue -h -t R -n reluscope -o %i)" ] && break
  sleep 0.1
done
sleep 3
scancel "$(squeue -h -t R -n reluscope -o %i | head -1)"
drain
if grep -q "requeued" logs/*.out || ! ls results/shards-*/*.state >/dev/null 2>&1; then
  cat logs/*.out; echo "slurm: a cancelled task requeued itself, or left no state" >&2; exit 1
fi
echo "slurm: a cancelled task saved its state and stayed stopped"

# The whole grid unattended (examples/slurm-submit.sh): one task is
# killed outright mid-run (as a lost node or the out-of-memory killer); the
# watcher finds it missing, resubmits it and looks again; when all are
# finished it merges and reports. The records equal the local sweep's.
mkdir -p "$work/submit" && cd "$work/submit"
ROUNDS=2 BLOCK=$BLOCK SBATCH_ARGS="--cpus-per-task=1 --mem=500M" bash "$(dirname "$script")/slurm-submit.sh" "$PRESET" "${set_args[@]}" | tee submit.txt
for _ in $(seq 1 600); do
  ls results/shards-*/*.state >/dev/null 2>&1 && break
  sleep 0.1
done
# SIGKILL to every process of the task (a plain scancel sends SIGTERM
# first: the run saves its state and the task requeues itself).
task=$(squeue -h -t R -n reluscope -o %i | head -1)
[ -n "$task" ] && scancel --full --signal=KILL "$task" && echo "killed task $task"
drain
cat logs/reluscope-watch-*.out
grep -q "resubmitted what is missing" logs/reluscope-watch-*.out || { echo "slurm: the watcher resubmitted nothing" >&2; exit 1; }
grep -q "complete: results/" logs/reluscope-watch-*.out || { echo "slurm: the watcher did not see the grid through" >&2; exit 1; }
"$BIN" sweep merge --out both.jsonl results/*.jsonl "$work/job/local/results.jsonl" 2> merge.txt
cat merge.txt
if grep -q "disagree" merge.txt || ! grep -q "merged $N records ($N duplicates dropped)" merge.txt; then
  echo "slurm: the watched grid's records differ from the local sweep's" >&2
  exit 1
fi
echo "slurm: the watcher resubmitted a killed task and merged $N records equal to the local sweep's"

# A plan's script submitted as its header says, with --export=NONE (no
# PATH, no RELUSCOPE): it names the binary that wrote it.
mkdir -p "$work/plan/logs" && cd "$work/plan"
"$BIN" sweep plan "$PRESET" "${set_args[@]}" --rate 50 --sbatch plansb > plan.txt
sbatch --export=NONE --cpus-per-task=1 --mem=500M --array=0-1 plansb/class-0.sh 0
drain
"$BIN" sweep status "$PRESET" "results/shards-$(basename "$PRESET" .yaml)" "${set_args[@]}" --allow-partial | tee status5.txt
grep -q " 2 finished, 0 failed" status5.txt || { cat logs/*.out; echo "slurm: the plan's script under --export=NONE" >&2; exit 1; }
echo "slurm: the plan's script ran under --export=NONE"
