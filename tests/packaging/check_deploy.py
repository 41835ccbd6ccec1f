#!/usr/bin/env python3
"""Checks what can be checked of the deployment files without Docker or a
cluster: the Kubernetes manifest parses, and its ports, probes and flags
agree with each other and with `osm-adapter --help`; the adapter listens on
the pod's loopback only and the front sidecar forwards to it; the Dockerfile is
multi-stage, runs as non-root, probes health and exposes the same ports; the
systemd unit gives the drain time to finish. The drain time is the adapter's
--drain_timeout plus --shutdown_delay: what the file sets, or else the
defaults that `osm-adapter --help` states.

usage: check_deploy.py REPO_ROOT OSM_ADAPTER_BINARY
"""
import re
import subprocess
import sys

import yaml

root, binary = sys.argv[1], sys.argv[2]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


UNIT_SECONDS = {"h": 3600, "m": 60, "min": 60, "s": 1, "sec": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def duration_seconds(text):
    """An absl duration ("30s", "1m30s", "300ms", "0") in seconds; None if it is not one."""
    if text == "0":
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * UNIT_SECONDS[u] for n, u in parts)


def systemd_seconds(text):
    """A systemd time span ("45", "45s", "1min 30s") in seconds; None if it is not one."""
    parts = re.findall(r"(\d+)\s*(ms|us|min|sec|s|m|h)?", text)
    if not parts or re.fullmatch(r"(\s*\d+\s*(ms|us|min|sec|s|m|h)?)+\s*", text) is None:
        return None
    return sum(int(n) * UNIT_SECONDS[u or "s"] for n, u in parts)


help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
known_flags = set(re.findall(r"--([a-z_0-9]+) \(", help_text))
check("listen" in known_flags, "--help of the binary does not list --listen")
# Each flag's default as --help states it: `--name (what it is); default: "value";`.
defaults = dict(re.findall(r'^\s*--([a-z_0-9]+) \(.*\); default: "([^"]*)";?\s*$', help_text, re.M))
for flag in ("drain_timeout", "shutdown_delay"):
    check(duration_seconds(defaults.get(flag, "")) is not None,
          f"--help states no default duration for --{flag}: {defaults.get(flag)!r}")


def drain_seconds(settings, where):
    """drain_timeout + shutdown_delay in seconds, from `settings` (flag -> value) or the defaults."""
    total = 0.0
    for flag in ("drain_timeout", "shutdown_delay"):
        value = settings.get(flag, defaults.get(flag, ""))
        seconds = duration_seconds(value)
        check(seconds is not None, f"{where}: --{flag}={value!r} is not a duration")
        total += seconds or 0.0
    return total

# ---- Kubernetes ----
with open(f"{root}/deploy/kubernetes/osm-adapter.yaml") as f:
    documents = [d for d in yaml.safe_load_all(f) if d]
kinds = {d["kind"]: d for d in documents}
check(set(kinds) >= {"Deployment", "Service"}, f"manifest kinds: {sorted(kinds)}")
deployment = kinds["Deployment"]
pod = deployment["spec"]["template"]["spec"]
containers = {c["name"]: c for c in pod["containers"]}
check(set(containers) == {"osm-adapter", "front"}, f"pod containers: {sorted(containers)}")
container = containers["osm-adapter"]
front = containers["front"]
args = dict(a[2:].split("=", 1) for a in container["args"])
for flag in args:
    check(flag in known_flags, f"manifest passes --{flag}, which osm-adapter does not know")
for variable in (e["name"] for e in container.get("env", [])):
    if variable.startswith("OSM_ADAPTER_"):
        flag = variable[len("OSM_ADAPTER_"):].lower()
        check(flag in known_flags, f"manifest sets {variable}, which is no flag's twin")
# The adapter listens only where the front, in the same pod, reaches it.
check(args["listen"].startswith(("127.0.0.1:", "[::1]:")),
      f"the adapter listens on {args['listen']}, not on the pod's loopback only")
front_env = {e["name"]: e["value"] for e in front.get("env", [])}
check(front_env.get("OSM_ADAPTER_ADDRESS") == args["listen"],
      f"the front forwards to {front_env.get('OSM_ADAPTER_ADDRESS')}, the adapter listens on "
      f"{args['listen']}")
front_ports = {p["name"]: p["containerPort"] for p in front["ports"]}
front_port = int(front_env.get("OSM_FRONT_BIND", ":0").rsplit(":", 1)[1])
check(front_ports.get("grpc") == front_port,
      f"front grpc containerPort {front_ports.get('grpc')} != OSM_FRONT_BIND {front_port}")
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
metrics_port = int(args["metrics_listen"].rsplit(":", 1)[1])
check("grpc" not in ports, "the adapter container exposes a grpc port: callers go to the front")
check(ports.get("metrics") == metrics_port, "metrics containerPort != --metrics_listen")
for probe_name in ("readinessProbe", "livenessProbe"):
    command = container.get(probe_name, {}).get("exec", {}).get("command", [])
    check(command[:1] == ["osm-health-probe"] and f"--target={args['listen']}" in command,
          f"adapter {probe_name} does not run osm-health-probe against {args['listen']}")
check("--service=huaweicloud.osm.v2.MessageService" in
      container["readinessProbe"]["exec"]["command"],
      "the adapter's readiness probe does not check MessageService")
front_readiness = front.get("readinessProbe", {}).get("grpc", {})
check(front_readiness.get("port") == front_port and
      front_readiness.get("service") == "huaweicloud.osm.v2.MessageService",
      "the front's readiness probe is not a gRPC check of MessageService through the front")
annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
check(annotations.get("prometheus.io/port") == str(metrics_port), "prometheus.io/port != metrics port")
grace = pod["terminationGracePeriodSeconds"]
env_settings = {e["name"][len("OSM_ADAPTER_"):].lower(): e.get("value", "")
                for e in container.get("env", []) if e["name"].startswith("OSM_ADAPTER_")}
drain = drain_seconds({**env_settings, **args}, "the manifest")
check(grace > drain,
      f"terminationGracePeriodSeconds {grace} is not above shutdown_delay + drain_timeout ({drain:g} s)")
for name, c in containers.items():
    resources = c.get("resources", {})
    check("requests" in resources and "limits" in resources,
          f"{name}: resources need requests and limits")
check(pod["securityContext"].get("runAsNonRoot") is True, "pod must run as non-root")
service = kinds["Service"]
service_ports = {p["name"]: p for p in service["spec"]["ports"]}
check(service_ports.get("grpc", {}).get("targetPort") == "grpc", "Service grpc port target")
check(service_ports.get("metrics", {}).get("targetPort") == "metrics", "Service metrics port target")
check(service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"],
      "Service selector does not select the Deployment's pods")
grpc_port = 50051  # the image's default --listen, checked against the Dockerfile below

# ---- Dockerfile ----
with open(f"{root}/Dockerfile") as f:
    dockerfile = f.read()
stages = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
check(len(stages) >= 2 and all(s.startswith("debian:12") for s in stages),
      f"Dockerfile stages: {stages}")
user = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
check(user and user[-1] not in ("root", "0"), "Dockerfile must end as a non-root USER")
check(re.search(r"^HEALTHCHECK .*osm-health-probe", dockerfile, re.M | re.S) is not None,
      "Dockerfile HEALTHCHECK does not use osm-health-probe")
exposed = {int(p) for p in re.findall(r"^EXPOSE\s+(.+)$", dockerfile, re.M)[0].split()}
check(exposed == {grpc_port, metrics_port}, f"EXPOSE {exposed}")
# The adapter's memory limit leaves room above the gRPC memory quota.
quota = int(args.get("grpc_memory_quota_mib", "128"))
limit = container["resources"]["limits"]["memory"]
check(limit.endswith("Mi") and int(limit[:-2]) >= 2 * quota,
      f"memory limit {limit} is not at least twice --grpc_memory_quota_mib ({quota} MiB)")
final_stage = dockerfile.split(re.findall(r"^FROM .*$", dockerfile, re.M)[-1])[1]
check("-dev" not in final_stage, "the final stage installs -dev packages")
for command in re.findall(r"^CMD\s+(.+)$", final_stage, re.M):
    for flag in re.findall(r"--([a-z_0-9]+)=", command):
        check(flag in known_flags, f"Dockerfile CMD passes --{flag}, unknown to osm-adapter")
        if flag == "listen":
            check(f":{grpc_port}" in command, "Dockerfile CMD --listen port != the manifest's")

# ---- systemd ----
with open(f"{root}/deploy/systemd/osm-adapter.service.in") as f:
    unit = f.read()
# What the unit itself sets: flags on ExecStart, OSM_ADAPTER_* in Environment=
# (flags win). EnvironmentFile= is the machine's; its settings are not known here.
exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M)
check(exec_start is not None, "the unit has no ExecStart=")
unit_settings = {name.lower(): value for name, value in
                 re.findall(r'^Environment="?OSM_ADAPTER_([A-Z0-9_]+)=([^"\s]*)', unit, re.M)}
unit_settings.update(re.findall(r"--([a-z_0-9]+)=(\S+)", exec_start.group(1) if exec_start else ""))
drain = drain_seconds(unit_settings, "the systemd unit")
stop_text = re.search(r"^TimeoutStopSec=(.*)$", unit, re.M)
stop = systemd_seconds(stop_text.group(1).strip()) if stop_text else None
check(stop is not None and stop > drain,
      f"TimeoutStopSec ({stop_text.group(1).strip() if stop_text else 'unset'}) must exceed the "
      f"adapter's drain time, drain_timeout + shutdown_delay = {drain:g} s")
check("KillSignal=SIGTERM" in unit, "the unit must stop with SIGTERM")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("deployment files agree with osm-adapter --help")
