#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying `nntrain sweep --slurm` and `nntrain cv --slurm`
# without a real cluster (and for CI, which runs a sweep through it: data-scripts/slurm-check.sh).
# It needs Debian's slurm-wlm and munge (`apt-get install slurm-wlm munge`) and root, as slurmd
# starts jobs for their users; it touches no system file: everything lives in STATE_DIR.
#
#   data-scripts/slurm-local.sh start [STATE_DIR]   (default runs/slurm-local)
#   export SLURM_CONF=STATE_DIR/slurm.conf          (printed by start: sbatch, squeue, sinfo read it)
#   data-scripts/slurm-local.sh stop [STATE_DIR]
#
# start writes a munge key (1 KiB from /dev/urandom, mode 400) and a minimal slurm.conf: the controller
# and the one node on localhost, munge authentication through STATE_DIR/munge.socket, Linux process
# tracking, no task plugin, cores as the consumable resource, NodeName=localhost with this machine's
# CPUs and memory (MB), one partition `local` (the default, no time limit). Then it starts munged,
# slurmctld and slurmd, each with its PID file in STATE_DIR, and waits (up to 30 s) until the node is
# idle. stop ends exactly the daemons whose PID files STATE_DIR holds, when the PID is still that
# daemon (SIGTERM, then SIGKILL after 10 s), and nothing else. Ports: SLURM_LOCAL_PORT (default 6817) for slurmctld and the next one
# for slurmd. Exit status 0, 1 when a daemon does not come up (its log's last lines are printed),
# 64 on bad usage.
set -euo pipefail

usage() { echo "usage: $0 start|stop [STATE_DIR]" >&2; exit 64; }
[ $# -ge 1 ] || usage
action=$1
dir=${2:-runs/slurm-local}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
daemons=(slurmd slurmctld munged)  # the order stop ends them in

# Whether PID is still DAEMON (a PID file left by a crash may name a process that reused the number).
is_daemon() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }

stop() {
    for daemon in "${daemons[@]}"; do
        pidfile=$dir/$daemon.pid
        [ -s "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if is_daemon "$pid" "$daemon"; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 100); do is_daemon "$pid" "$daemon" || break; sleep 0.1; done
            if is_daemon "$pid" "$daemon"; then kill -9 "$pid" 2>/dev/null || true; fi
            echo "stopped $daemon (pid $pid)"
        fi
        rm -f "$pidfile"
    done
}

started() {  # started DAEMON: waits up to 5 s for its PID file and process, else fails naming it
    for _ in $(seq 50); do
        if [ -s "$dir/$1.pid" ] && is_daemon "$(cat "$dir/$1.pid")" "$1"; then return 0; fi
        sleep 0.1
    done
    fail "$1"
}

fail() {  # fail DAEMON: its log's last lines, the others stopped
    echo "slurm-local: $1 did not start; the end of $dir/$1.log:" >&2
    tail -n 5 "$dir/$1.log" >&2 || true
    stop
    exit 1
}

case $action in
stop) stop ;;
start)
    for tool in munged slurmctld slurmd sinfo; do
        command -v "$tool" > /dev/null || [ -x "/usr/sbin/$tool" ] \
            || { echo "slurm-local: $tool is missing; install it: apt-get install slurm-wlm munge" >&2; exit 1; }
    done
    export PATH=$PATH:/usr/sbin
    stop > /dev/null  # daemons left by an earlier start of this STATE_DIR
    # munged checks that every directory above its socket is searchable by all.
    chmod 755 "$dir"
    mkdir -p "$dir/state" "$dir/spool"
    if [ ! -s "$dir/munge.key" ]; then
        head -c 1024 /dev/urandom > "$dir/munge.key"
        chmod 400 "$dir/munge.key"
    fi
    port=${SLURM_LOCAL_PORT:-6817}
    user=$(id -un)
    memory=$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)
    cat > "$dir/slurm.conf" <<EOF
# Written by nntrain's data-scripts/slurm-local.sh: a one-node cluster on localhost.
ClusterName=nntrain-local
SlurmctldHost=localhost
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=$user
SlurmdUser=$user
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=localhost CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    munged --socket="$dir/munge.socket" --key-file="$dir/munge.key" --log-file="$dir/munged.log" \
        --pid-file="$dir/munged.pid" --seed-file="$dir/munged.seed" || fail munged
    started munged
    export SLURM_CONF=$dir/slurm.conf
    slurmctld -f "$SLURM_CONF" || fail slurmctld
    started slurmctld
    slurmd -f "$SLURM_CONF" -N localhost || fail slurmd
    started slurmd
    for _ in $(seq 300); do
        if sinfo --noheader --nodes=localhost --format=%T 2>/dev/null | grep -qx idle; then
            echo "a one-node Slurm cluster runs (munged, slurmctld, slurmd; PIDs in $dir); use it with:"
            echo "export SLURM_CONF=$SLURM_CONF"
            exit 0
        fi
        sleep 0.1
    done
    fail slurmd
    ;;
*) usage ;;
esac
