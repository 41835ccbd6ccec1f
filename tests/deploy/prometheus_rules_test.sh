#!/usr/bin/env bash
# The Prometheus rules and dashboard of deploy/prometheus against promtool
# and against the adapter's source:
#   1. promtool check rules (with its linter) on osm-adapter-rules.yml;
#   2. promtool test rules on osm-adapter-rules.test.yml;
#   3. every metric named by a rule, a dashboard query or a test's input
#      series is one the adapter registers (AddCounter/AddGauge/AddHistogram/
#      AddCallback under server/), `up`, or a series recorded by the rules, so
#      that renaming a metric in the code fails here instead of silencing an
#      alert; every raw selector of a rule or panel says job="osm-adapter";
#      the values of the labels reason, code and error_code are ones the code
#      can produce;
#   4. the gRPC-code mapping that the derived rules (credentials unavailable,
#      refused for overload) subtract is still what the source says;
#   5. every alert fires in some test, and every recording rule is tested or
#      used by another rule;
#   6. the dashboard is JSON and each of its queries parses as PromQL.
#
# usage: prometheus_rules_test.sh [REPO_ROOT]
# Exit 0 on success, 1 on a failure, 77 (CTest's skip) when promtool or
# Python's yaml module is missing, unless OSM_DEPLOY_TESTS_REQUIRED=1, which
# turns that into a failure (CI, where the tools are installed).
# PROMTOOL and OSM_PYTHON override the tools found on PATH.
set -euo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
dir="$root/deploy/prometheus"
rules="$dir/osm-adapter-rules.yml"
tests="$dir/osm-adapter-rules.test.yml"
dashboard="$dir/osm-adapter-dashboard.json"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

missing_tool() {
  if [[ "${OSM_DEPLOY_TESTS_REQUIRED:-0}" == 1 ]]; then
    fail "$1 (required: OSM_DEPLOY_TESTS_REQUIRED=1)"
  fi
  echo "SKIP: $1; set OSM_DEPLOY_TESTS_REQUIRED=1 to make this a failure"
  exit 77
}

promtool="${PROMTOOL:-$(command -v promtool || true)}"
if [[ -z "$promtool" || ! -x "$promtool" ]]; then
  missing_tool "promtool not found (Debian: apt-get install prometheus)"
fi
python="${OSM_PYTHON:-python3}"
if ! "$python" -c 'import yaml' 2>/dev/null; then
  missing_tool "$python with the yaml module not found (Debian: python3-yaml)"
fi

for file in "$rules" "$tests"; do
  [[ -f "$file" ]] || fail "missing $file"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== $("$promtool" --version 2>&1 | head -n 1)"

echo "== promtool check rules"
"$promtool" check rules --lint=all --lint-fatal "$rules" ||
  fail "promtool check rules rejects $rules"

echo "== promtool test rules"
"$promtool" test rules "$tests" || fail "promtool test rules: $tests"

echo "== metric names, labels and derivations against the source"
"$python" - "$root" "$rules" "$tests" "$dashboard" "$work/dashboard-rules.yml" <<'PY' ||
import glob
import json
import os
import re
import sys

import yaml

root, rules_path, tests_path, dashboard_path, dashboard_rules_path = sys.argv[1:6]
JOB = "osm-adapter"
errors = []


def read(path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return f.read()


# --- What the adapter exports, from the source --------------------------------

exported = set()
for path in glob.glob(os.path.join(root, "server", "**", "*.cc"), recursive=True):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for kind, name in re.findall(
        r'\bAdd(Counter|Gauge|Histogram|Callback)\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"', text
    ):
        if kind == "Histogram":
            exported.update({name + "_bucket", name + "_sum", name + "_count"})
        else:
            exported.add(name)
if not any(name.startswith("osm_adapter_") for name in exported):
    sys.exit("found no osm_adapter_* metric registered under server/: the pattern is stale")
# Added by Prometheus to every scrape.
allowed_raw = exported | {"up"}

# Label values the code can produce. reason: the adapter's reasons that are
# upstream failures (the only ones that label a metric); code: gRPC status
# code names; error_code: the known OSM codes, "other" and "".
reason_rows = re.findall(
    r'\{AdapterReason::k\w+,\s*"([A-Z_]+)",\s*StatusCode::([A-Z_]+),\s*(true|false)\}',
    read("server/osm/adapter_errors.cc"),
)
osm_rows = re.findall(
    r'\{"([A-Z]+\.[0-9]+)",\s*StatusCode::([A-Z_]+),\s*(true|false),',
    read("server/osm/osm_error_codes.cc"),
)
grpc_codes = set(re.findall(r'"([A-Z_]+)"', read("server/observability/status_code_name.cc")))
if not reason_rows or not osm_rows or "UNAVAILABLE" not in grpc_codes:
    sys.exit("could not read the reason, OSM error code or gRPC code tables from the source")
known_values = {
    "reason": {name for name, _, upstream in reason_rows if upstream == "true"},
    "code": grpc_codes,
    "error_code": {code for code, _, _ in osm_rows} | {"other", ""},
}

# --- The derivations' assumptions ------------------------------------------------
# instance:osm_adapter_calls_credentials_unavailable:ratio_rate5m and
# instance:osm_adapter_calls_refused_for_overload:ratio_rate5m subtract the
# upstream outcomes that end UNAVAILABLE or RESOURCE_EXHAUSTED; they are right
# only while the mapping below holds.


# Reasons only a WatchNewMessages stream ends with; watches are left out of
# the call rules (method!="WatchNewMessages"), so the derivations do not see
# them. Checked: no other file of the server uses them.
WATCH_ONLY = {"SHUTTING_DOWN", "TOO_MANY_WATCHES"}
for reason in WATCH_ONLY:
    enum = "k" + "".join(part.capitalize() for part in reason.split("_"))
    users = sorted(
        os.path.relpath(path, root)
        for path in glob.glob(os.path.join(root, "server", "**", "*.cc"), recursive=True)
        if f"AdapterReason::{enum}" in read(os.path.relpath(path, root))
        and os.path.basename(path) not in ("adapter_errors.cc", "watch_call.cc"))
    if users:
        errors.append(f"{reason} is used outside the watch: {users}")
reason_rows = [row for row in reason_rows if row[0] not in WATCH_ONLY]


def expect(what, got, want):
    if got != want:
        errors.append(f"{what}: the rules assume {sorted(want)}, the source has {sorted(got)}")


expect("adapter reasons decided before OSM is called that end UNAVAILABLE",
       {n for n, c, u in reason_rows if c == "UNAVAILABLE" and u == "false"},
       {"CREDENTIALS_UNAVAILABLE"})
expect("upstream-failure reasons that end UNAVAILABLE",
       {n for n, c, u in reason_rows if c == "UNAVAILABLE" and u == "true"},
       {"UPSTREAM_UNAVAILABLE"})
expect("adapter reasons that end RESOURCE_EXHAUSTED",
       {n for n, c, _ in reason_rows if c == "RESOURCE_EXHAUSTED"},
       {"TOO_MANY_CALLS_IN_FLIGHT"})
expect("OSM error codes that map to UNAVAILABLE",
       {n for n, c, _ in osm_rows if c == "UNAVAILABLE"}, set())
expect("OSM error codes that map to RESOURCE_EXHAUSTED",
       {n for n, c, _ in osm_rows if c == "RESOURCE_EXHAUSTED"}, {"APIGW.0308"})
expect("OSM error codes whose HTTP status decides",
       {n for n, _, decides in osm_rows if decides == "true"}, {"APIGW.0201"})
mapper = read("server/osm/response_mapper.cc")
body = re.search(r"StatusCode GrpcCodeForHttpStatus\(int http_status\) \{(.*?)\n\}", mapper, re.S)
if body is None:
    errors.append("GrpcCodeForHttpStatus not found in server/osm/response_mapper.cc")
else:
    cases = re.findall(r"case (\d+):\s*return StatusCode::([A-Z_]+);", body.group(1))
    for code, statuses in (("UNAVAILABLE", {"502", "503"}), ("RESOURCE_EXHAUSTED", {"429"})):
        expect(f"HTTP statuses mapped to {code}", {s for s, c in cases if c == code}, statuses)
        # And no range rule (the ifs after the switch) returns it.
        expect(f"returns of {code} in GrpcCodeForHttpStatus",
               {str(body.group(1).count("StatusCode::" + code))}, {str(len(statuses))})

# --- PromQL: metric names and label matchers --------------------------------------

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "offset", "bool", "atan2", "inf", "nan"}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
# Aggregations may put their by/without before the parenthesis.
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                "count_values", "bottomk", "topk", "quantile"}
TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<number>[0-9][0-9a-zA-Z.]*|\.[0-9][0-9a-zA-Z.]*)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^=<>(){}\[\],@])
""", re.X)


def tokens(expr):
    pos = 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if m is None:
            raise ValueError(f"cannot read {expr[pos:pos + 20]!r}")
        pos = m.end()
        if m.lastgroup != "space":
            yield m.lastgroup, m.group()


def unquote(literal):
    if literal[0] == "`":
        return literal[1:-1]
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def selectors(expr):
    """(metric name or None, [(label, op, value)]) of each vector selector."""
    toks = list(tokens(expr))
    out = []
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "ident" and text in LABEL_LIST_KEYWORDS and nxt == "(":
            i = [j for j in range(i, len(toks)) if toks[j][1] == ")"][0] + 1
            continue
        if kind == "ident" and (text in KEYWORDS or nxt == "(" or
                                (text in AGGREGATIONS and nxt in ("by", "without"))):
            i += 1  # a keyword, a function or an aggregation
            continue
        if (kind == "ident") or text == "{":
            name = text if kind == "ident" else None
            matchers = []
            j = i + 1 if kind == "ident" else i
            if j < len(toks) and toks[j][1] == "{":
                j += 1
                while toks[j][1] != "}":
                    if toks[j][1] == ",":
                        j += 1
                        continue
                    label, op, value = toks[j][1], toks[j + 1][1], unquote(toks[j + 2][1])
                    if label == "__name__" and op == "=":
                        name = value
                    else:
                        matchers.append((label, op, value))
                    j += 3
                j += 1
            out.append((name, matchers))
            i = j
            continue
        i += 1
    return out


def check_label_values(where, matchers):
    for label, op, value in matchers:
        if label not in known_values:
            continue
        if op in ("=", "!="):
            values = [value]
        else:
            plain = value.replace(r"\.", ".")
            if not re.fullmatch(r"[A-Za-z0-9_.|]*", plain):
                continue  # a real pattern (5..): not a list of values
            values = plain.split("|")
        for v in values:
            if v not in known_values[label]:
                errors.append(f"{where}: {label}={v!r} is not a value the adapter exports")


def check_expr(where, expr, recorded, need_job):
    try:
        found = selectors(expr)
    except (ValueError, IndexError) as e:
        errors.append(f"{where}: cannot read the expression: {e}")
        return
    if not found:
        errors.append(f"{where}: names no metric")
    for name, matchers in found:
        check_label_values(where, matchers)
        if name in recorded:
            continue
        if name not in allowed_raw:
            errors.append(f"{where}: {name} is not a metric the adapter exports "
                          "(server/**/*.cc) nor a series these rules record")
            continue
        if need_job and ("job", "=", JOB) not in matchers:
            errors.append(f'{where}: {name} is selected without job="{JOB}"')


with open(rules_path, encoding="utf-8") as f:
    groups = yaml.safe_load(f)["groups"]
all_rules = [rule for group in groups for rule in group["rules"]]
recorded = {rule["record"] for rule in all_rules if "record" in rule}
alerts = {rule["alert"] for rule in all_rules if "alert" in rule}
for rule in all_rules:
    check_expr(f"rule {rule.get('record') or rule.get('alert')}", rule["expr"], recorded, True)

with open(tests_path, encoding="utf-8") as f:
    unit_tests = yaml.safe_load(f)["tests"]
fired = set()
tested_exprs = []
for test in unit_tests:
    for series in test.get("input_series", []):
        # Test inputs may come from other jobs on purpose: no job check.
        check_expr(f"test {test['name']!r}, series {series['series']}",
                   series["series"], set(), False)
    for case in test.get("alert_rule_test", []):
        if case.get("exp_alerts"):
            fired.add(case["alertname"])
        if case["alertname"] not in alerts:
            errors.append(f"test {test['name']!r}: no alert {case['alertname']}")
    tested_exprs += [case["expr"] for case in test.get("promql_expr_test", [])]
for alert in sorted(alerts - fired):
    errors.append(f"alert {alert} is never shown firing in {os.path.basename(tests_path)}")
used = " ".join(tested_exprs + [rule["expr"] for rule in all_rules])
for record in sorted(recorded):
    if not re.search(r"(?<![a-zA-Z0-9_:])" + re.escape(record) + r"(?![a-zA-Z0-9_:])", used):
        errors.append(f"recording rule {record} is neither tested nor used by another rule")

# --- The dashboard ----------------------------------------------------------------

GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
                     "${instance}": ".*", "$instance": ".*"}
if os.path.exists(dashboard_path):
    with open(dashboard_path, encoding="utf-8") as f:
        try:
            dashboard = json.load(f)
        except ValueError as e:
            sys.exit(f"{dashboard_path} is not JSON: {e}")
    queries = []

    def walk(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                if "expr" in target:
                    queries.append((f"panel {panel.get('title')!r} {target.get('refId')}",
                                    target["expr"]))
            walk(panel.get("panels", []))

    walk(dashboard.get("panels", []))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        m = re.fullmatch(r"label_values\((.*),\s*\w+\)", query or "")
        if variable.get("type") == "query" and m:
            queries.append((f"variable {variable['name']}", m.group(1)))
    if not queries:
        errors.append("the dashboard has no query")
    throwaway = []
    for i, (where, expr) in enumerate(queries):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        if "$" in expr:
            errors.append(f"dashboard {where}: a Grafana variable this check does not know: {expr}")
            continue
        check_expr(f"dashboard {where}", expr, recorded, True)
        throwaway.append({"record": f"dashboard_query_{i}", "expr": expr})
    # promtool parses each query as the expression of a recording rule;
    # the .txt beside it says which rule is which query.
    with open(dashboard_rules_path, "w", encoding="utf-8") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": throwaway}]}, f)
    with open(dashboard_rules_path + ".txt", "w", encoding="utf-8") as f:
        f.writelines(f"dashboard_query_{i}: {where}\n" for i, (where, _) in enumerate(queries))
    print(f"{len(queries)} dashboard queries")

print(f"{len(exported)} exported series names, {len(recorded)} recorded, "
      f"{len(alerts)} alerts fired in tests: {', '.join(sorted(fired))}")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
PY
  fail "rules, tests or dashboard disagree with the adapter's source (see above)"

if [[ -f "$dashboard" ]]; then
  echo "== dashboard queries parse"
  if ! "$promtool" check rules "$work/dashboard-rules.yml"; then
    cat "$work/dashboard-rules.yml.txt" >&2
    fail "a query of $dashboard is not valid PromQL (see above)"
  fi
fi

echo "PASS: deploy/prometheus"
