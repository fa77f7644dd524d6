#!/usr/bin/env python3
"""Checks the structure of Prometheus alert rule files (what `promtool check rules` checks
first, without Prometheus: Debian's package is ~100 MB): groups with unique names, each rule
with an alert name, a PromQL expression with balanced brackets, a well-formed `for`, a
severity label and a summary. PromQL itself is not parsed; tests/dashboards.rs checks that
every metric named exists on /metrics.

    scripts/check-alerts.py deploy/prometheus/alerts.yml
"""
import re
import sys

import yaml

DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
SEVERITIES = {"info", "warning", "critical"}
ALLOWED = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


def balanced(expr):
    stack, pairs = [], {")": "(", "]": "[", "}": "{"}
    in_string = False
    for c in expr:
        if c == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif c in "([{":
            stack.append(c)
        elif c in pairs:
            if not stack or stack.pop() != pairs[c]:
                return False
    return not stack and not in_string


def check(path):
    problems = []
    with open(path) as f:
        doc = yaml.safe_load(f)
    groups = doc.get("groups") if isinstance(doc, dict) else None
    if not isinstance(groups, list) or not groups:
        return [f"{path}: no `groups` list"]
    names = set()
    for group in groups:
        name = group.get("name")
        if not name or name in names:
            problems.append(f"{path}: group without a unique name: {name!r}")
        names.add(name)
        for rule in group.get("rules") or []:
            where = f"{path}: {name}/{rule.get('alert', '?')}"
            unknown = set(rule) - ALLOWED
            if unknown:
                problems.append(f"{where}: unknown fields {sorted(unknown)}")
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(rule.get("alert", ""))):
                problems.append(f"{where}: missing or malformed `alert`")
            expr = rule.get("expr")
            if not isinstance(expr, str) or not expr.strip() or not balanced(expr):
                problems.append(f"{where}: `expr` missing or with unbalanced brackets")
            if "for" in rule and not DURATION.match(str(rule["for"])):
                problems.append(f"{where}: `for: {rule['for']}` is not a duration")
            if (rule.get("labels") or {}).get("severity") not in SEVERITIES:
                problems.append(f"{where}: labels.severity must be one of {sorted(SEVERITIES)}")
            if not (rule.get("annotations") or {}).get("summary"):
                problems.append(f"{where}: no annotations.summary")
    return problems


if __name__ == "__main__":
    problems = [p for path in sys.argv[1:] for p in check(path)]
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{len(sys.argv) - 1} rule file(s) OK")
