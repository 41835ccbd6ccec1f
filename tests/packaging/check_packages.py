#!/usr/bin/env python3
"""Checks that the container image and a systemd machine get their packages
from the one list in scripts/install-deps.sh, and that the list is right:

- the Dockerfile installs packages only through scripts/install-deps.sh: its
  build stage with the `build` group, its final stage with `runtime`; the
  front's image (deploy/haproxy/Dockerfile) with `front`;
- every shared library that the shipped binaries load directly comes from a
  package of the `runtime` group, or from a package those depend on, or from
  one that every Debian system has (Priority: required);
- every package of the `runtime` group is needed: it holds such a library,
  or it is ca-certificates (OSM is reached over HTTPS);
- the systemd unit names the command that installs what it runs.

usage: check_packages.py REPO_ROOT BINARY...
Needs dpkg, readelf and ldd (a Debian machine with the build packages).
"""
import re
import subprocess
import sys

root, binaries = sys.argv[1], sys.argv[2:]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


with open(f"{root}/scripts/install-deps.sh") as f:
    install_deps = f.read()
groups = {name: body.split() for name, body in
          re.findall(r"^([a-z]+)=\(([^)]*)\)", install_deps, re.M)}
check({"build", "test", "runtime"} <= set(groups), f"install-deps.sh groups: {sorted(groups)}")
runtime = set(groups.get("runtime", []))

# ---- Dockerfile: one list, no second copy ----
with open(f"{root}/Dockerfile") as f:
    dockerfile = f.read()
stage_texts = re.split(r"^FROM\s+\S+.*$", dockerfile, flags=re.M)[1:]
check(len(stage_texts) >= 2, "Dockerfile: expected a build stage and a final stage")
check(re.search(r"apt-get\s+install|apt\s+install|dpkg\s+-i", dockerfile) is None,
      "Dockerfile installs packages itself; use scripts/install-deps.sh GROUP instead")
if len(stage_texts) >= 2:
    check(re.search(r"install-deps\.sh\s+build\b", stage_texts[0]) is not None,
          "Dockerfile build stage does not run scripts/install-deps.sh build")
    check(re.search(r"install-deps\.sh\s+runtime\b", stage_texts[-1]) is not None,
          "Dockerfile final stage does not run scripts/install-deps.sh runtime")

# ---- The front's image: HAProxy from the front group, nothing else ----
with open(f"{root}/deploy/haproxy/Dockerfile") as f:
    front_dockerfile = f.read()
check(re.search(r"apt-get\s+install|apt\s+install|dpkg\s+-i", front_dockerfile) is None,
      "deploy/haproxy/Dockerfile installs packages itself; use scripts/install-deps.sh front")
check(re.search(r"install-deps\.sh\s+front\b", front_dockerfile) is not None,
      "deploy/haproxy/Dockerfile does not run scripts/install-deps.sh front")
check("haproxy" in groups.get("front", []), "install-deps.sh: the front group lacks haproxy")

# ---- systemd ----
with open(f"{root}/deploy/systemd/osm-adapter.service.in") as f:
    check("scripts/install-deps.sh runtime" in f.read(),
          "the systemd unit does not say that scripts/install-deps.sh runtime installs what it needs")

# ---- The runtime group against the binaries ----
installed = {}  # package -> (dependencies, priority)
for line in run("dpkg-query", "-W", "-f",
                "${Package}\t${Status}\t${Pre-Depends}, ${Depends}\t${Priority}\n").splitlines():
    package, status, depends, priority = line.split("\t")
    if not status.endswith(" installed"):
        continue
    names = {re.sub(r"[\s(:].*", "", alternative.strip())
             for alternative in re.split(r"[,|]", depends) if alternative.strip()}
    installed[package] = (names, priority)


def closure(start):
    seen, todo = set(), list(start)
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        todo.extend(installed.get(package, (set(), ""))[0])
    return seen


required = {p for p, (_, priority) in installed.items() if priority == "required"}
available = closure(runtime | required)

needed_packages = set()
for binary in binaries:
    # ldd resolves every library the way the loader would; only the direct
    # ones (NEEDED) are checked, apt brings in what those depend on.
    library_paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", run("ldd", binary), re.M))
    for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", run("readelf", "-d", binary)):
        path = library_paths.get(soname)
        if path is None:
            failures.append(f"{binary}: the loader does not find {soname}")
            continue
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if owner.returncode != 0:  # /lib is a symlink to /usr/lib on Debian 12
            owner = subprocess.run(["dpkg", "-S", re.sub(r"^/lib/", "/usr/lib/", path)],
                                   capture_output=True, text=True)
        if owner.returncode != 0:
            failures.append(f"{binary}: no package owns {path} ({soname})")
            continue
        package = owner.stdout.split(":")[0].strip()
        needed_packages.add(package)
        check(package in available,
              f"{binary} loads {soname} from {package}, which the runtime group does not install")

for package in sorted(runtime - needed_packages - {"ca-certificates"}):
    failures.append(f"runtime group: {package} holds no library that the binaries load directly")
check("ca-certificates" in runtime, "runtime group: ca-certificates (OSM is reached over HTTPS)")
check(not any(p.endswith("-dev") for p in runtime), "runtime group: -dev packages")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"the runtime group covers the {len(needed_packages)} packages that "
      f"{len(binaries)} binaries load; the Dockerfile uses install-deps.sh")
