#!/usr/bin/env python3
"""Checks the Kubernetes manifest (deploy/kubernetes/osm-adapter.yaml) on its
own, with no cluster: each document parses (a duplicated key is an error, not
a silent overwrite), has a kind this test knows at its stable apiVersion and
a metadata.name, and the objects agree with each other:

- the Deployment's selector selects its own pod template, its rollout is
  explicit (RollingUpdate, maxUnavailable 0, maxSurge at least 1), and it
  sets no replica count when a HorizontalPodAutoscaler owns the count;
- every container has CPU and memory requests and limits, requests within
  limits (the autoscaler's utilization is use over the pod's CPU requests);
- every container has a readiness and a liveness probe with one handler: a
  command, or a port the container declares;
- terminationGracePeriodSeconds exceeds the adapter's --shutdown_delay plus
  --drain_timeout, read from its args (or OSM_ADAPTER_* environment);
- the Service selects the Deployment's pods and every targetPort is a port
  those pods declare;
- the HorizontalPodAutoscaler targets the Deployment (apiVersion, kind,
  name), scales on CPU utilization between 1 and 100%, keeps at least 2
  replicas, has maxReplicas >= minReplicas and a scale-down stabilization
  window of at least a minute;
- the PodDisruptionBudget selects the Deployment's pods, sets exactly one of
  minAvailable and maxUnavailable, and lets a drain evict at least one pod
  but never all of the autoscaler's minimum.

tests/packaging/check_deploy.py checks the same file against
`osm-adapter --help` (flags, ports, probes); this test needs no binary.

Why not a schema validator: Debian 12 packages none that works offline.
`apt-cache search` finds no kubeconform and no kubeval; it finds
kubernetes-client (kubectl 1.20). `kubectl apply --dry-run=client` fetches
the OpenAPI schema from an API server to validate, and with --validate=false
still asks the server's discovery API to map each kind to a resource, so
without a cluster it fails on every document (kubectl 1.32 alike). yamllint
(Debian 12 has it) checks YAML style, not Kubernetes fields.

Prints each check as it passes; on the first failure prints what failed and
exits 1.

usage: kubernetes_manifest_test.py MANIFEST
"""
import math
import re
import sys

import yaml

# The stable apiVersion of each kind this test knows, as served by 1.24 and
# later: the older betas (autoscaling/v2beta2, policy/v1beta1) are gone from
# 1.25/1.26 clusters.
API_VERSIONS = {
    "Deployment": "apps/v1",
    "Service": "v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "ServiceAccount": "v1",
    "NetworkPolicy": "networking.k8s.io/v1",
}
# metadata.name: a DNS-1123 subdomain (Services need a DNS-1123 label, checked below).
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
DURATION_UNITS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
QUANTITY_SUFFIXES = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
                     "E": 1e18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
                     "Pi": 2**50, "Ei": 2**60}


def fail(message):
    print(f"FAIL {message}")
    sys.exit(1)


def ok(message):
    print(f"ok   {message}")


def expect(condition, what, why):
    """Passes `what` or stops the test with `what` and the reason it failed."""
    if not condition:
        fail(f"wanted: {what}\n     but: {why}")
    ok(what)


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping: PyYAML keeps
    the last one silently, a cluster rejects or keeps either."""


def construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} given twice", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)


def duration_seconds(text):
    """An absl duration ("30s", "1m30s", "300ms", "0") in seconds; None if it is not one."""
    if text == "0":
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * DURATION_UNITS[u] for n, u in parts)


def quantity(value):
    """A Kubernetes quantity ("250m", "2", "64Mi") as a number; None if it is not one."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?",
                         str(value))
    if match is None:
        return None
    return float(match.group(1)) * QUANTITY_SUFFIXES[match.group(2) or ""]


def int_or_percent(value, total, round_up):
    """An IntOrString count (3, "25%") against `total`; None if it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"(\d+)%", str(value))
    if match is None:
        return None
    exact = int(match.group(1)) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def selects(selector, labels):
    """Whether a label selector ({key: value}) selects pods labelled `labels`."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def match_labels(selector, where):
    """matchLabels of a LabelSelector; this test does not evaluate matchExpressions."""
    if not isinstance(selector, dict):
        fail(f"{where}: no selector")
    if "matchExpressions" in selector:
        fail(f"{where}: matchExpressions is not checked by this test; use matchLabels "
             "or teach the test")
    labels = selector.get("matchLabels")
    if not isinstance(labels, dict) or not labels:
        fail(f"{where}: selector.matchLabels is empty (it would select every pod)")
    return labels


if len(sys.argv) != 2:
    sys.exit(__doc__.rsplit("usage: ", 1)[1])
path = sys.argv[1]

# ---- Every document ----
try:
    with open(path) as f:
        documents = [d for d in yaml.load_all(f, Loader=StrictLoader) if d is not None]
except (OSError, yaml.YAMLError) as error:
    fail(f"{path} does not load: {error}")
ok(f"{path}: {len(documents)} YAML documents load, no key given twice")

objects = {}  # (kind, name) -> object
for index, document in enumerate(documents, 1):
    where = f"document {index}"
    if not isinstance(document, dict):
        fail(f"{where}: not a mapping")
    kind, api_version = document.get("kind"), document.get("apiVersion")
    if kind not in API_VERSIONS:
        fail(f"{where}: kind {kind!r} is not one this test knows ({', '.join(API_VERSIONS)})")
    expect(api_version == API_VERSIONS[kind], f"{where}: {kind} is {API_VERSIONS[kind]}",
           f"apiVersion is {api_version!r}")
    name = (document.get("metadata") or {}).get("name")
    expect(isinstance(name, str) and len(name) <= 253 and DNS_SUBDOMAIN.fullmatch(name),
           f"{where}: {kind} has a metadata.name ({name})",
           "missing, or not a DNS-1123 subdomain")
    if (kind, name) in objects:
        fail(f"{where}: a second {kind} named {name}")
    objects[(kind, name)] = document


def of_kind(kind):
    return [o for (k, _), o in objects.items() if k == kind]


# ---- Deployment ----
deployments = of_kind("Deployment")
expect(len(deployments) == 1, "one Deployment", f"found {len(deployments)}")
deployment = deployments[0]
name = deployment["metadata"]["name"]
spec = deployment.get("spec") or {}
template = spec.get("template") or {}
pod_labels = (template.get("metadata") or {}).get("labels") or {}
selector = match_labels(spec.get("selector"), f"Deployment {name}")
expect(selects(selector, pod_labels),
       f"Deployment {name}: selector {selector} selects its pod template",
       f"template labels are {pod_labels}")
pod = template.get("spec") or {}
containers = pod.get("containers") or []
all_containers = (pod.get("initContainers") or []) + containers
if not containers:
    fail(f"Deployment {name}: the pod has no containers")

autoscalers = [h for h in of_kind("HorizontalPodAutoscaler")
               if (h.get("spec") or {}).get("scaleTargetRef", {}).get("name") == name]
min_replicas = (autoscalers[0]["spec"].get("minReplicas", 1) if autoscalers
                else spec.get("replicas", 1))
if autoscalers:
    expect("replicas" not in spec,
           f"Deployment {name}: no spec.replicas, the HorizontalPodAutoscaler owns the count",
           f"replicas: {spec.get('replicas')} would reset the autoscaler's count on every apply")

strategy = spec.get("strategy") or {}
expect(strategy.get("type") == "RollingUpdate",
       f"Deployment {name}: strategy.type RollingUpdate, explicit",
       f"strategy.type is {strategy.get('type')!r}")
rolling = strategy.get("rollingUpdate") or {}
# The controller rounds maxUnavailable down and maxSurge up.
unavailable = int_or_percent(rolling.get("maxUnavailable"), min_replicas, round_up=False)
expect(unavailable == 0,
       f"Deployment {name}: rollingUpdate.maxUnavailable 0 (a replacement is ready first)",
       f"maxUnavailable is {rolling.get('maxUnavailable')!r}")
surge = int_or_percent(rolling.get("maxSurge"), min_replicas, round_up=True)
expect(surge is not None and surge >= 1,
       f"Deployment {name}: rollingUpdate.maxSurge {rolling.get('maxSurge')} (at least one pod)",
       "with maxUnavailable 0 a rollout needs a surge pod, or it never starts")

container_ports = {}  # port name -> number, over the pod
declared_numbers = set()
for container in all_containers:
    cname = container.get("name")
    where = f"container {cname}"
    for port in container.get("ports") or []:
        number = port.get("containerPort")
        if not isinstance(number, int) or not 0 < number < 65536:
            fail(f"{where}: containerPort {number!r}")
        declared_numbers.add(number)
        if "name" in port:
            if port["name"] in container_ports:
                fail(f"{where}: port name {port['name']} used twice in the pod")
            container_ports[port["name"]] = number
    resources = container.get("resources") or {}
    amounts = {}
    for part in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            value = (resources.get(part) or {}).get(resource)
            amount = quantity(value) if value is not None else None
            if amount is None:
                fail(f"{where}: resources.{part}.{resource} is "
                     f"{'missing' if value is None else repr(value) + ', not a quantity'}")
            amounts[part, resource] = amount
    for resource in ("cpu", "memory"):
        if amounts["requests", resource] > amounts["limits", resource]:
            fail(f"{where}: {resource} request above its limit")
    ok(f"{where}: cpu and memory requests {resources['requests']} within limits "
       f"{resources['limits']}")

for container in containers:
    cname = container["name"]
    own_ports = {p.get("name"): p.get("containerPort") for p in container.get("ports") or []}
    for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if probe is None and probe_name == "startupProbe":
            continue
        where = f"container {cname}: {probe_name}"
        if not isinstance(probe, dict):
            fail(f"{where} is missing")
        handlers = [h for h in PROBE_HANDLERS if h in probe]
        if len(handlers) != 1:
            fail(f"{where} has handlers {handlers}, needs exactly one of {PROBE_HANDLERS}")
        handler = probe[handlers[0]] or {}
        if handlers[0] == "exec":
            command = handler.get("command")
            expect(isinstance(command, list) and command and
                   all(isinstance(a, str) and a for a in command),
                   f"{where} runs {command[0] if isinstance(command, list) and command else None}",
                   f"command is {command!r}")
            continue
        port = handler.get("port")
        if handlers[0] == "grpc" and not isinstance(port, int):
            fail(f"{where}: a gRPC probe's port must be a number, not {port!r}")
        if isinstance(port, str):
            expect(port in own_ports, f"{where} {handlers[0]} port {port} is declared",
                   f"container ports are {own_ports}")
        else:
            expect(port in own_ports.values(),
                   f"{where} {handlers[0]} port {port} is declared by the container",
                   f"container ports are {own_ports}")

adapter = next((c for c in containers if c.get("name") == "osm-adapter"), None)
if adapter is None:
    fail(f"Deployment {name}: no container named osm-adapter")
settings = {e["name"][len("OSM_ADAPTER_"):].lower(): str(e.get("value", ""))
            for e in adapter.get("env") or [] if e.get("name", "").startswith("OSM_ADAPTER_")}
arguments = list(adapter.get("args") or [])
for i, argument in enumerate(arguments):  # flags win over the environment
    if argument.startswith("--") and "=" in argument:
        flag, value = argument[2:].split("=", 1)
        settings[flag] = value
    elif argument.startswith("--") and i + 1 < len(arguments):
        settings[argument[2:]] = arguments[i + 1]
drain = 0.0
for flag in ("shutdown_delay", "drain_timeout"):
    seconds = duration_seconds(settings.get(flag, ""))
    if seconds is None:
        fail(f"container osm-adapter: --{flag} is {settings.get(flag)!r}; set it in the "
             "manifest as a duration, so that the grace period can be checked against it")
    drain += seconds
grace = pod.get("terminationGracePeriodSeconds", 30)
expect(isinstance(grace, int) and grace > drain,
       f"Deployment {name}: terminationGracePeriodSeconds {grace} > --shutdown_delay + "
       f"--drain_timeout ({drain:g} s)", "the drain would be cut short by SIGKILL")

# ---- Service ----
for service in of_kind("Service"):
    sname = service["metadata"]["name"]
    where = f"Service {sname}"
    if DNS_LABEL.fullmatch(sname) is None:
        fail(f"{where}: a Service name must be a DNS-1123 label")
    service_selector = (service.get("spec") or {}).get("selector") or {}
    expect(selects(service_selector, pod_labels),
           f"{where}: selector {service_selector} selects Deployment {name}'s pods",
           f"pod labels are {pod_labels}")
    for port in (service.get("spec") or {}).get("ports") or []:
        target = port.get("targetPort", port.get("port"))
        if isinstance(target, str):
            expect(target in container_ports,
                   f"{where}: port {port.get('name')} targets the pod's port {target} "
                   f"({container_ports.get(target)})",
                   f"the pod's named ports are {sorted(container_ports)}")
        else:
            expect(target in declared_numbers,
                   f"{where}: port {port.get('name')} targets containerPort {target}",
                   f"the pod declares {sorted(declared_numbers)}")

# ---- HorizontalPodAutoscaler ----
for autoscaler in of_kind("HorizontalPodAutoscaler"):
    hname = autoscaler["metadata"]["name"]
    where = f"HorizontalPodAutoscaler {hname}"
    hspec = autoscaler.get("spec") or {}
    target = hspec.get("scaleTargetRef") or {}
    wanted = {"apiVersion": deployment["apiVersion"], "kind": "Deployment", "name": name}
    expect({k: target.get(k) for k in wanted} == wanted,
           f"{where}: scaleTargetRef is {wanted['apiVersion']} Deployment {name}",
           f"scaleTargetRef is {target}")
    cpu = [m for m in hspec.get("metrics") or []
           if m.get("type") == "Resource" and (m.get("resource") or {}).get("name") == "cpu"]
    if len(cpu) != 1:
        fail(f"{where}: needs one Resource metric on cpu, has {len(cpu)}")
    cpu_target = cpu[0]["resource"].get("target") or {}
    utilization = cpu_target.get("averageUtilization")
    expect(cpu_target.get("type") == "Utilization" and isinstance(utilization, int)
           and 1 <= utilization <= 100,
           f"{where}: scales on CPU at {utilization}% of requests",
           f"target is {cpu_target}, needs type Utilization and averageUtilization 1-100")
    low, high = hspec.get("minReplicas", 1), hspec.get("maxReplicas")
    expect(isinstance(low, int) and low >= 2,
           f"{where}: minReplicas {low} >= 2", "one replica is down during every rollout or drain")
    expect(isinstance(high, int) and high >= low,
           f"{where}: maxReplicas {high} >= minReplicas {low}", "the range is empty")
    scale_down = (hspec.get("behavior") or {}).get("scaleDown") or {}
    window = scale_down.get("stabilizationWindowSeconds")
    expect(isinstance(window, int) and window >= 60,
           f"{where}: scale-down stabilization window {window} s (at least a minute)",
           "set it explicitly, or the count follows every dip in load")

# ---- PodDisruptionBudget ----
for budget in of_kind("PodDisruptionBudget"):
    bname = budget["metadata"]["name"]
    where = f"PodDisruptionBudget {bname}"
    bspec = budget.get("spec") or {}
    budget_selector = match_labels(bspec.get("selector"), where)
    expect(selects(budget_selector, pod_labels),
           f"{where}: selector {budget_selector} selects Deployment {name}'s pods",
           f"pod labels are {pod_labels}")
    given = [k for k in ("minAvailable", "maxUnavailable") if k in bspec]
    expect(len(given) == 1, f"{where}: sets exactly one of minAvailable, maxUnavailable",
           f"it sets {' and '.join(given) or 'neither'}")
    # PodDisruptionBudget percentages round up.
    count = int_or_percent(bspec[given[0]], min_replicas, round_up=True)
    if count is None:
        fail(f"{where}: {given[0]} is {bspec[given[0]]!r}, not a count or a percentage")
    evictable = min_replicas - count if given[0] == "minAvailable" else count
    expect(1 <= evictable < min_replicas,
           f"{where}: at {min_replicas} replicas a drain may evict {evictable} pod(s) at a time",
           "a budget that allows no eviction blocks every node drain" if evictable < 1 else
           "a drain could evict every pod at once")

print(f"{path}: all checks passed")
