#!/usr/bin/env python3
"""Checks that the documentation agrees with the code:

- docs/configuration.md has exactly one row for every flag that
  `osm-adapter --help` lists, in a table `| flag | default | meaning |`,
  with the default --help prints (in backticks; `""` for an empty one), and
  no row for a flag that --help does not list;
- every reason of the adapter's own errors (the kReasons table of
  server/osm/adapter_errors.cc) appears in docs/errors.md and in the error
  model comment at the top of proto/huaweicloud/osm/v2/message_service.proto.
  A reason that is also the name of a gRPC code (CANCELLED,
  DEADLINE_EXCEEDED) counts only on a line that names it twice, as code and
  as reason.

Prints every problem it finds and exits 1 if there is one.

usage: check_docs.py REPO_ROOT OSM_ADAPTER_BINARY
"""
import pathlib
import re
import subprocess
import sys

GRPC_CODES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
}

failures = []


def fail(message):
    failures.append(message)


def help_flags(binary):
    """{flag name: default} from `binary --help`; None if it lists none."""
    try:
        result = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        fail(f"cannot run {binary} --help: {error}")
        return None
    if result.returncode != 0:
        fail(f"{binary} --help exited with status {result.returncode}: {result.stderr.strip()}")
    flags = {}
    for line in result.stdout.splitlines():
        match = re.match(r'\s*--([a-z0-9_]+) \(.*\); default: "(.*)";\s*$', line)
        if match:
            flags[match.group(1)] = match.group(2)
    if not flags:
        fail(f"{binary} --help lists no flags in the form --NAME (...); default: \"...\";")
        return None
    return flags


def cells(line):
    """The cells of a Markdown table row, stripped; None if not a row."""
    line = line.strip()
    if not (line.startswith("|") and line.endswith("|")) or len(line) < 2:
        return None
    return [cell.strip() for cell in line[1:-1].split("|")]


def documented_flags(path):
    """[(line number, flag cell, default cell)] of every row of every
    `| flag | default | meaning |` table; and problems with other rows."""
    rows = []
    in_flag_table = False
    previous = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        row = cells(line)
        if row is None:
            in_flag_table = False
            previous = None
            continue
        if all(re.fullmatch(r":?-+:?", cell) for cell in row):  # the separator line
            in_flag_table = previous == ["flag", "default", "meaning"]
            continue
        previous = row
        if in_flag_table:
            if len(row) != 3:
                fail(f"{path}:{number}: a settings row needs 3 cells (flag, default, meaning), "
                     f"has {len(row)}")
                continue
            rows.append((number, row[0], row[1]))
        elif row and row[0].startswith("`--"):
            fail(f"{path}:{number}: {row[0]} is in a table that is not "
                 "| flag | default | meaning |")
    return rows


def check_configuration(root, binary):
    path = root / "docs" / "configuration.md"
    if not path.exists():
        fail(f"{path} is missing")
        return
    flags = help_flags(binary)
    if flags is None:
        return
    seen = {}
    for number, flag_cell, default_cell in documented_flags(path):
        match = re.fullmatch(r"`--([a-z0-9_]+)`", flag_cell)
        if not match:
            fail(f"{path}:{number}: the flag cell must be one flag in backticks, like `--listen`; "
                 f"got {flag_cell!r}")
            continue
        name = match.group(1)
        seen.setdefault(name, []).append(number)
        if name not in flags:
            fail(f"{path}:{number}: --{name} is not a flag of osm-adapter --help")
            continue
        default = re.fullmatch(r"`([^`]*)`", default_cell)
        if not default:
            fail(f"{path}:{number}: the default of --{name} must be one value in backticks "
                 f"(`\"\"` for empty); got {default_cell!r}")
            continue
        written = "" if default.group(1) == '""' else default.group(1)
        if written != flags[name]:
            fail(f"{path}:{number}: --{name} has default `{default.group(1)}` here, "
                 f"but --help says \"{flags[name]}\"")
    for name in flags:
        if name not in seen:
            fail(f"{path}: no row for --{name} (--help default: \"{flags[name]}\")")
        elif len(seen[name]) > 1:
            fail(f"{path}: --{name} has {len(seen[name])} rows (lines "
                 f"{', '.join(map(str, seen[name]))}); it must have exactly one")


def adapter_reasons(root):
    path = root / "server" / "osm" / "adapter_errors.cc"
    text = path.read_text()
    table = re.search(r"kReasons\[\]\s*=\s*\{(.*?)\n\};", text, re.S)
    if not table:
        fail(f"{path}: no kReasons[] table found")
        return []
    reasons = re.findall(r'AdapterReason::k\w+,\s*"([A-Z][A-Z0-9_]*)"', table.group(1))
    if not reasons:
        fail(f"{path}: no reason names found in kReasons[]")
    return reasons


def documents_reason(lines, reason):
    word = re.compile(rf"(?<![A-Z0-9_]){reason}(?![A-Z0-9_])")
    needed = 2 if reason in GRPC_CODES else 1
    return any(len(word.findall(line)) >= needed for line in lines)


def check_reasons(root):
    reasons = adapter_reasons(root)
    errors_md = root / "docs" / "errors.md"
    proto = root / "proto" / "huaweicloud" / "osm" / "v2" / "message_service.proto"
    errors_lines = errors_md.read_text().splitlines() if errors_md.exists() else []
    if not errors_md.exists():
        fail(f"{errors_md} is missing")
    # The file's leading comment: the contract's error model.
    comment = []
    for line in proto.read_text().splitlines():
        if line.startswith("syntax"):
            break
        if line.lstrip().startswith("//"):
            comment.append(line)
    twice = " (as code and as reason, on one line)"
    for reason in reasons:
        extra = twice if reason in GRPC_CODES else ""
        if errors_lines and not documents_reason(errors_lines, reason):
            fail(f"{errors_md}: the adapter reason {reason} (server/osm/adapter_errors.cc) "
                 f"is not documented{extra}")
        if not documents_reason(comment, reason):
            fail(f"{proto}: the adapter reason {reason} (server/osm/adapter_errors.cc) is not "
                 f"in the error model comment{extra}")


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1])
        return 2
    root, binary = pathlib.Path(sys.argv[1]), sys.argv[2]
    check_configuration(root, binary)
    check_reasons(root)
    if failures:
        print("\n".join(failures))
        print(f"{len(failures)} problem(s): the documentation disagrees with the code")
        return 1
    print("docs/configuration.md agrees with --help; docs/errors.md and the proto comment "
          "name every adapter reason")
    return 0


if __name__ == "__main__":
    sys.exit(main())
