#!/usr/bin/python3
"""Reads the attack suite's JSON lines (h2_attacks.py run, e.g. from
`ctest --preset attacks`) on stdin; prints a Markdown table with the adapter
alone and behind the front side by side."""
import json
import re
import sys

rows = {}
for line in sys.stdin:
    match = re.search(r'\{"attack".*\}', line)
    if match:
        report = json.loads(match.group(0))
        rows.setdefault(report["attack"], {})[report["through"]] = report


def cell(report):
    if report is None:
        return "-"
    growth = {name: report["peak_mib"][name] - report["idle_mib"][name]
              for name in report["peak_mib"]}
    memory = ", ".join(f"{name} {report['idle_mib'][name]:.0f} -> {report['peak_mib'][name]:.0f} "
                       f"MiB (+{growth[name]:.0f})" for name in report["peak_mib"])
    closed = f"closed {report['closed_by_server']}/{report['connections']}"
    legit = report["legit"]
    failures = sum(legit.get("failures", {}).values())
    verdict = "**within bounds**" if not report["problems"] else "**" + "; ".join(
        report["problems"]) + "**"
    return (f"{memory}; {closed}; legitimate: {legit.get('calls', 0)} calls, {failures} failed, "
            f"worst {legit.get('worst_ms', '-')} ms; {verdict}")


print("| attack | osm-adapter alone (default flags) | behind deploy/haproxy |")
print("|---|---|---|")
for attack in sorted(rows):
    print(f"| {attack} | {cell(rows[attack].get('direct'))} | {cell(rows[attack].get('haproxy'))} |")
