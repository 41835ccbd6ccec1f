#!/usr/bin/env bash
# CI stage: the README's two commands on a brand-new Debian 12 machine.
#
#   .ci/new-root.sh PASSED_TESTS_FILE
#
# Builds a minimal Debian 12 root (debootstrap --variant=minbase bookworm,
# from the machine's own apt sources), clones the commit under test into it
# and, inside a chroot, runs exactly the README's two commands:
#   1. as a user with sudo, in ~/osm-grpc-adapter: `scripts/run.sh`; once the
#      adapter listens, three calls with the built osm-withdraw (OK, NOT_FOUND,
#      PERMISSION_DENIED) and three with osm-messages (list-case, send, a
#      watch until its deadline), then SIGINT to the command's process group, as
#      Ctrl-C sends it; both processes must stop and nothing may be left
#      running; then `scripts/test.sh`, every test passing;
#   2. as root, in /root/osm-grpc-adapter: `scripts/run.sh`, the same calls and
#      SIGINT (the packages are there by then: this proves the root path of
#      the scripts and a demo stand-in started by root).
# The names of the tests that passed inside go to PASSED_TESTS_FILE; .ci/run
# compares them with the tests that pass outside.
#
# Safety, because CI runs as root on a developer's own machine: no host
# directory is ever bind-mounted into the root. Only proc, a new devpts
# instance and a tmpfs are mounted. On exit, failure included, every process
# started here is stopped by its id, the mounts are undone, findmnt must show
# nothing mounted below the root, and only then is it removed with
# rm -rf --one-file-system. The run command uses the README's ports (8080,
# 50051, 9464) on this machine's network: they must be free.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
passed_file=${1:?usage: .ci/new-root.sh PASSED_TESTS_FILE}
export LC_ALL=C.UTF-8

say() { printf -- '-- %s\n' "$*"; }
die() { printf 'new-root stage FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount)"
for port in 8080 50051 9464; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use on this machine; the README's run command needs it"
  fi
done
if ! command -v debootstrap >/dev/null; then
  say "Installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

commit=$(git -C "$repo" rev-parse HEAD)
work=$(mktemp -d /var/tmp/osm-new-root.XXXXXX)
root="$work/root"
started=()   # the run commands started here: each leads its own process group

# Processes whose root directory is the new root: all of them were started
# by this stage.
processes_in_root() {
  local proc
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && echo "${proc#/proc/}"
  done
  return 0
}
mounts_below_root() {
  findmnt -rn -o TARGET | awk -v root="$root" 'index($0, root "/") == 1' | sort -r
}
cleanup() {
  local status=$? pid target
  set +e
  for pid in "${started[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
  for pid in $(processes_in_root); do kill -KILL "$pid" 2>/dev/null; done
  for pid in $(processes_in_root); do tail --pid="$pid" -s 0.1 -f /dev/null; done
  for target in $(mounts_below_root); do umount "$target" || umount -l "$target"; done
  if [ -n "$(mounts_below_root)" ]; then
    echo "new-root stage: still mounted below $root, NOT removing $work:" >&2
    mounts_below_root >&2
    exit 1
  fi
  rm -rf --one-file-system "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- A brand-new Debian 12 root ------------------------------------------------
# The first mirror of this machine's apt sources that serves bookworm.
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'BEGIN { RS = "" }
  /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t\n]|$)/ {
    if (match($0, /URIs:[ \t]*[^ \t\n]+/)) {
      uri = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", uri); print uri; exit
    }
  }')
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
           awk '$1 == "deb" { sub(/\[[^]]*\] */, ""); if ($3 == "bookworm") { print $2; exit } }')
fi
mirror=${mirror:-http://deb.debian.org/debian}

t0=$SECONDS
say "debootstrap --variant=minbase bookworm from $mirror into $root"
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  die "debootstrap failed"
fi
t_debootstrap=$((SECONDS - t0))

# The machine's own apt sources and apt settings, name resolution, and the
# certificate authorities this machine adds for its network (npm reaches its
# registry over HTTPS). Copied, never mounted.
rm -f "$root/etc/apt/sources.list"
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$file" ] && cp "$file" "$root$file"
done
for file in /etc/apt/apt.conf.d/* /etc/apt/trusted.gpg.d/* /etc/apt/keyrings/*; do
  [ -f "$file" ] && mkdir -p "$root$(dirname "$file")" && cp "$file" "$root$file"
done
{
  echo "127.0.0.1 localhost"
  echo "::1 localhost ip6-localhost ip6-loopback"
  grep -vE '^[[:space:]]*(#|$)|[[:space:]]localhost([[:space:]]|$)' /etc/hosts || true
} >"$root/etc/hosts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
node_ca_env=()
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  cat /usr/local/share/ca-certificates/*.crt >"$root/etc/machine-local-cas.pem"
  node_ca_env=(NODE_EXTRA_CA_CERTS=/etc/machine-local-cas.pem)
fi

mkdir -p "$root/proc" "$root/dev/pts" "$root/dev/shm"
mount -t proc proc "$root/proc"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"

# A user with sudo, as on a developer's machine.
say "A user 'dev' who may use sudo"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends sudo >/dev/null &&
         useradd --create-home --shell /bin/bash dev &&
         echo "dev ALL=(ALL:ALL) NOPASSWD: ALL" >/etc/sudoers.d/dev && chmod 0440 /etc/sudoers.d/dev' \
  >"$work/setup.log" 2>&1 || { cat "$work/setup.log" >&2; die "setting up the user failed"; }

# The commit under test, cloned as a new user would.
clone() {  # clone USER HOME
  git clone --quiet --no-local "$repo" "$root$2/osm-grpc-adapter"
  git -C "$root$2/osm-grpc-adapter" checkout --quiet --detach "$commit"
  chroot "$root" chown -R "$1:$1" "$2/osm-grpc-adapter"
}

# in_root USER HOME COMMAND...: COMMAND in HOME/osm-grpc-adapter inside the
# root, as USER, with the environment of a fresh login.
in_root() {
  local user=$1 home=$2 path=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games
  shift 2
  [ "$user" = root ] && path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  # --default-signal=INT: SIGINT as in a terminal's foreground job (a job
  # started with & by a script inherits SIGINT ignored, and then no trap of
  # the run command could see it).
  exec_in_root=(chroot --userspec="$user:$user" "$root" /usr/bin/env -i --default-signal=INT
    HOME="$home" USER="$user"
    LOGNAME="$user" PATH="$path" LANG=C.UTF-8 TERM=dumb "${node_ca_env[@]}"
    /bin/sh -c 'cd "$0/osm-grpc-adapter" && exec "$@"' "$home" "$@")
  [ "${in_root_print_only:-}" = 1 ] || "${exec_in_root[@]}"
}

# call USER HOME WANTED_EXIT WANTED_TEXT ARGS...: one osm-withdraw call
# (PROGRAM=osm-messages: one of that).
call() {
  local user=$1 home=$2 wanted_exit=$3 wanted_text=$4 program=${PROGRAM:-osm-withdraw} output status
  shift 4
  set +e
  output=$(in_root "$user" "$home" "build/client/$program" "$@" 2>&1)
  status=$?
  set -e
  printf '$ build/client/%s %s\n%s\n(exit status %d)\n' "$program" "$*" "$output" "$status"
  [ "$status" -eq "$wanted_exit" ] || die "$program $*: exit status $status, wanted $wanted_exit"
  grep -q "$wanted_text" <<<"$output" || die "$program $*: no '$wanted_text' in its output"
}

# run_command USER HOME: the README's run command, three calls, then Ctrl-C.
run_command() {
  local user=$1 home=$2 log="$work/run-$1.log" pid status leftover
  say "As $user: scripts/run.sh"
  in_root_print_only=1 in_root "$user" "$home" scripts/run.sh
  # setsid: the command leads a process group of its own (its pid is the
  # group's id), as a shell's foreground job does, so that SIGINT can go to
  # the whole group as Ctrl-C sends it.
  # The log exists before the command starts, so that tail below can open it
  # whichever runs first; the command appends to it.
  : >"$log"
  setsid "${exec_in_root[@]}" >>"$log" 2>&1 </dev/null &
  pid=$!
  started=("$pid")
  # Await the adapter's "listening" line, or the command's end.
  grep -q -m1 '"listening"' <(tail --pid="$pid" -n +1 -f "$log") || true
  if ! grep -q '"listening"' "$log"; then
    tail -n 40 "$log" >&2
    die "as $user, scripts/run.sh ended before the adapter listened"
  fi
  grep -v '^\[' "$log" | tail -n 4
  call "$user" "$home" 0 '^OK' --case_id=C202611300001 --message_id=M100001 --token=demo
  call "$user" "$home" 5 NOT_FOUND --case_id=missing --message_id=m1 --token=demo
  call "$user" "$home" 7 PERMISSION_DENIED --case_id=forbidden --message_id=m1 --token=demo
  # The README's quick start with osm-messages: the demo ticket's messages
  # with their ids, a new message, and a watch that prints what is there
  # until its deadline.
  PROGRAM=osm-messages call "$user" "$home" 0 M100005 list-case --case_id=C202611300002 \
    --token=demo
  PROGRAM=osm-messages call "$user" "$home" 0 '"status":"OK"' send --case_id=C202611300002 \
    --content="Checked from a new root." --token=demo --json
  PROGRAM=osm-messages call "$user" "$home" 4 'Checked from a new root' watch \
    --case_ids=C202611300002 --timeout=2s --token=demo --json
  say "Ctrl-C (SIGINT to the run command's process group)"
  kill -INT -- "-$pid"
  timeout 60 tail --pid="$pid" -s 0.1 -f /dev/null || die "as $user, scripts/run.sh did not stop within 60 s of SIGINT"
  set +e
  wait "$pid"
  status=$?
  set -e
  started=()
  tail -n 3 "$log"
  leftover=$(processes_in_root | tr '\n' ' ')
  if [ -n "$leftover" ]; then
    ps -o pid,args -p "${leftover// /,}" >&2 || true
    die "as $user, processes were left running after Ctrl-C: $leftover"
  fi
  [ "$status" -eq 0 ] || die "as $user, scripts/run.sh exited with $status after SIGINT"
  echo "scripts/run.sh exited with 0; nothing left running"
}

clone dev /home/dev
t0=$SECONDS
run_command dev /home/dev
t_run_dev=$((SECONDS - t0))

t0=$SECONDS
say "As dev: scripts/test.sh"
set +e
in_root dev /home/dev scripts/test.sh 2>&1 </dev/null | tee "$work/test-dev.log"
status=${PIPESTATUS[0]}
set -e
"$repo/.ci/passed-tests.sh" <"$work/test-dev.log" >"$passed_file"
[ "$status" -eq 0 ] || die "scripts/test.sh failed inside the new root (exit status $status)"
echo "$(wc -l <"$passed_file") tests passed inside the new root"
t_test_dev=$((SECONDS - t0))

clone root /root
t0=$SECONDS
run_command root /root
t_run_root=$((SECONDS - t0))

say "Times: debootstrap ${t_debootstrap} s; as dev: run command ${t_run_dev} s, test command ${t_test_dev} s; as root: run command ${t_run_root} s"
