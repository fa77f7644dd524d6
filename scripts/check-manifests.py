#!/usr/bin/env python3
"""Checks the Kubernetes manifests in deploy/ (scripts/test runs it in a venv with
kubernetes-validate, the PyPI package that ships the Kubernetes JSON schemas):

- every core resource (Deployment, Service, ...) against the Kubernetes schemas, strict
  (unknown fields are errors);
- the pod template inside the Agones Fleet, wrapped as a v1 PodTemplate, the same way;
- the Agones resources: no registry package ships the Agones CRD schemas, so what tickwire
  relies on is checked here: a Dynamic (or Passthrough) port named as --agones-port-name
  whose containerPort is the one --bind listens on, no --public-url (read from the
  GameServer), the `rooms` and `players` counters declared, and a FleetAutoscaler of the
  Fleet whose Counter policy scales on a declared counter with sane capacities.

`--self-test` also breaks copies of the manifests in known ways and fails unless each one
is caught. Exit status 1 with one line per problem.
"""

import copy
import re
import sys

import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.33.0"
# Must match src/cluster/agones.rs: PLAYERS_COUNTER, ROOMS_COUNTER, DEFAULT_PORT_NAME.
COUNTERS = ("players", "rooms")
DEFAULT_PORT_NAME = "game"


def core(resource, where):
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(p) for p in error.path)
        return [f"{where}: {path}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{where}: no Kubernetes schema: {error}"]
    return []


def arg_value(args, flag):
    match = re.search(rf"{re.escape(flag)}[ =](\S+)", args)
    return match.group(1) if match else None


def fleet(resource, where):
    problems = []
    gs = resource.get("spec", {}).get("template", {}).get("spec", {})
    pod = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "fleet-pod"},
           "template": gs.get("template", {})}
    problems += core(pod, f"{where} spec.template.spec.template")
    containers = gs.get("template", {}).get("spec", {}).get("containers", [])
    args = " ".join(" ".join(c.get("command", []) + c.get("args", [])) for c in containers)
    if "--agones" not in args.split():
        problems.append(f"{where}: the container does not run tickwire with --agones")
    if "--public-url" in args:
        problems.append(f"{where}: --public-url is set: the address and port come from the GameServer")
    name = arg_value(args, "--agones-port-name") or DEFAULT_PORT_NAME
    bind = arg_value(args, "--bind")
    ports = {p.get("name"): p for p in gs.get("ports", [])}
    port = ports.get(name)
    if port is None:
        problems.append(f"{where}: no GameServer port named {name!r} (--agones-port-name)")
    else:
        if port.get("portPolicy", "Dynamic") not in ("Dynamic", "Passthrough"):
            problems.append(f"{where}: port {name!r} is {port.get('portPolicy')}: use Dynamic host ports")
        if "hostPort" in port:
            problems.append(f"{where}: port {name!r} sets a hostPort: Agones picks it")
        if bind is None or not bind.endswith(f":{port.get('containerPort')}"):
            problems.append(f"{where}: --bind {bind} does not listen on containerPort {port.get('containerPort')}")
    counters = gs.get("counters") or {}
    for counter in COUNTERS:
        value = counters.get(counter)
        if not isinstance(value, dict):
            problems.append(f"{where}: counter {counter!r} is not declared (spec.template.spec.counters)")
            continue
        for field in ("count", "capacity"):
            if not isinstance(value.get(field, 0), int) or value.get(field, 0) < 0:
                problems.append(f"{where}: counter {counter!r} {field} must be a non-negative integer")
    return problems


def autoscaler(resource, where, fleets):
    problems = []
    spec = resource.get("spec", {})
    if spec.get("fleetName") not in fleets:
        problems.append(f"{where}: fleetName {spec.get('fleetName')!r} is not a Fleet here")
        return problems
    policy = spec.get("policy", {})
    if policy.get("type") != "Counter" or not isinstance(policy.get("counter"), dict):
        problems.append(f"{where}: the policy is {policy.get('type')!r}: scale on a Counter")
        return problems
    counter = policy["counter"]
    declared = fleets[spec["fleetName"]]
    if counter.get("key") not in declared:
        problems.append(f"{where}: counter key {counter.get('key')!r} is not declared by the Fleet")
    low, high, buffer = (counter.get(k) for k in ("minCapacity", "maxCapacity", "bufferSize"))
    if not all(isinstance(v, int) and v >= 0 for v in (low, high, buffer)):
        problems.append(f"{where}: bufferSize, minCapacity, maxCapacity must be non-negative integers")
    elif not buffer <= low <= high:
        problems.append(f"{where}: needs bufferSize <= minCapacity <= maxCapacity ({buffer}, {low}, {high})")
    unknown = set(counter) - {"key", "bufferSize", "minCapacity", "maxCapacity"}
    if unknown:
        problems.append(f"{where}: unknown Counter policy fields {sorted(unknown)}")
    return problems


def check(documents):
    """documents: (file name, resource) pairs; returns the problems."""
    problems = []
    fleets = {}
    for where, resource in documents:
        if resource.get("apiVersion") == "agones.dev/v1" and resource.get("kind") == "Fleet":
            problems += fleet(resource, where)
            counters = resource["spec"]["template"]["spec"].get("counters") or {}
            fleets[resource["metadata"]["name"]] = set(counters)
    for where, resource in documents:
        kind, api = resource.get("kind"), resource.get("apiVersion", "")
        if api == "autoscaling.agones.dev/v1" and kind == "FleetAutoscaler":
            problems += autoscaler(resource, where, fleets)
        elif not api.endswith("agones.dev/v1"):
            problems += core(resource, f"{where} {kind}")
    return problems


def self_test(documents):
    """Each breakage must be caught; returns the ones that were not."""
    def broken(edit):
        copied = copy.deepcopy(documents)
        for _, resource in copied:
            edit(resource)
        return copied

    def fleet_spec(resource):
        return resource["spec"]["template"]["spec"] if resource.get("kind") == "Fleet" else None

    def static_port(r):
        if fleet_spec(r):
            fleet_spec(r)["ports"][0].update(portPolicy="Static", hostPort=7000)

    def no_counter(r):
        if fleet_spec(r):
            fleet_spec(r)["counters"].pop("rooms")

    def bad_container(r):
        if fleet_spec(r):
            fleet_spec(r)["template"]["spec"]["containers"][0]["imagePullPolicey"] = "Always"

    def bad_service(r):
        if r.get("kind") == "Service":
            r["spec"]["ports"][0]["port"] = "six"

    def bad_key(r):
        if r.get("kind") == "FleetAutoscaler":
            r["spec"]["policy"]["counter"]["key"] = "sessions"

    missed = []
    for edit in (static_port, no_counter, bad_container, bad_service, bad_key):
        if not check(broken(edit)):
            missed.append(edit.__name__)
    return missed


def main(argv):
    files = [a for a in argv if a != "--self-test"]
    documents = []
    for name in files:
        with open(name, encoding="utf-8") as file:
            documents += [(name, d) for d in yaml.safe_load_all(file) if d]
    problems = check(documents)
    for problem in problems:
        print(problem)
    if "--self-test" in argv:
        missed = self_test(documents)
        for name in missed:
            print(f"self-test: the breakage {name} was not caught")
        problems += missed
    kinds = ", ".join(sorted({d.get("kind", "?") for _, d in documents}))
    print(f"{len(documents)} resources ({kinds}): {'problems above' if problems else 'valid'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
