#!/usr/bin/env python3
"""The dependency rule of server/ (server/CMakeLists.txt), checked on the
includes: a file includes only headers of its own layer and of the layers it
may use, and no library that its layer must not know. The link lines of the
CMake targets enforce the same rule at link time; this also catches a header
reached through a transitive include path.

usage: layering_test.py REPO_ROOT
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
# The seam of the transport: what the layers above it may include.
UPSTREAM_SEAM = {"server/upstream/upstream_client.h", "server/upstream/http_types.h"}
MAY_USE = {
    "base": {"base"},
    "observability": {"base", "observability"},
    "upstream": {"base", "observability", "upstream"},
    "osm": {"base", "observability", "upstream-seam", "osm"},
    "service": {"base", "observability", "upstream-seam", "osm", "service"},
    "app": {"base", "observability", "upstream", "upstream-seam", "osm", "service", "app"},
}
FORBIDDEN = {  # libraries a layer must not know, as include prefixes
    "base": ["curl/", "grpc", "google/", "huaweicloud/", "microhttpd", "openssl/"],
    "observability": ["curl/", "huaweicloud/", "google/rpc", "openssl/"],
    "upstream": ["grpc", "google/", "huaweicloud/"],
    "osm": ["curl/", "grpcpp/server", "grpcpp/support/server_callback", "grpcpp/impl/codegen/server",
            "grpcpp/ext/", "microhttpd"],
    "service": ["curl/", "microhttpd", "openssl/"],
    "app": [],
}

failures = []
files = sorted(p for p in (root / "server").rglob("*") if p.suffix in (".h", ".cc"))
for path in files:
    layer = path.relative_to(root / "server").parts[0]
    if layer not in MAY_USE:
        failures.append(f"{path}: not in a layer folder ({', '.join(MAY_USE)})")
        continue
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = re.match(r'\s*#\s*include\s*[<"]([^>"]+)[>"]', line)
        if not match:
            continue
        header = match.group(1)
        where = f"{path.relative_to(root)}:{number}"
        if header.startswith("server/"):
            parts = header.split("/")
            target = "upstream-seam" if header in UPSTREAM_SEAM else parts[1]
            allowed = MAY_USE[layer]
            if target not in allowed and not (target == "upstream-seam" and "upstream" in allowed):
                failures.append(f"{where}: {layer}/ may not include {header}")
        elif '"' in line and not header.startswith(("absl/", "google/", "huaweicloud/", "gmock",
                                                    "gtest")):
            failures.append(f"{where}: include {header} rooted at the repository (\"server/...\")")
        for prefix in FORBIDDEN[layer]:
            if header.startswith(prefix):
                failures.append(f"{where}: {layer}/ must not know {prefix} ({header})")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{len(files)} files of server/ follow the dependency rule")
