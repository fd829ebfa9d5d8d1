#!/usr/bin/env python3
"""Finds import cycles between the files of a crate.

usage: import-cycles.py CRATE_SRC_DIR...

Each `.rs` file is a module; a file depends on every module it names with a
`crate::a::b` path (in `use` or inline). Parent-child links (`mod x;`) and a
module's own tests do not count. Prints each cycle (a strongly connected
component of more than one file) and exits 1 if there is any.
"""
import os
import re
import sys


def module_of(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("lib", "mod"):
        rel = rel[:-1]
    return tuple(rel)


def modules(src):
    found = {}
    for root, _, files in os.walk(src):
        for name in files:
            if name.endswith(".rs"):
                path = os.path.join(root, name)
                found[module_of(src, path)] = path
    return found


def resolve(path, known):
    """The longest known module prefix of a `crate::` path."""
    for end in range(len(path), 0, -1):
        if tuple(path[:end]) in known:
            return tuple(path[:end])
    return None


def edges(src):
    known = modules(src)
    graph = {m: set() for m in known}
    for module, path in known.items():
        if module and module[-1] == "tests":
            continue
        # Comments (doc links included) name paths without importing them.
        text = "\n".join(
            line for line in open(path, encoding="utf-8").read().splitlines()
            if not line.lstrip().startswith("//")
        )
        # `use crate::a::{b, c::d}` and inline `crate::a::b::f`.
        for match in re.finditer(r"crate::([\w:]+)(::\{([^;]*?)\})?", text):
            head = match.group(1).split("::")
            targets = [head]
            if match.group(3):
                for item in match.group(3).split(","):
                    item = item.strip().split(" as ")[0]
                    if item and item != "self":
                        targets.append(head + item.split("::"))
            for target in targets:
                dep = resolve(target, known)
                if dep is None or dep == module or dep == ():
                    continue
                # A parent naming its child (`pub use child::X`) is structure.
                if dep[: len(module)] == module or module[: len(dep)] == dep:
                    continue
                graph[module].add(dep)
    return graph


def cycles(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


failed = False
for src in sys.argv[1:]:
    for component in cycles(edges(src)):
        failed = True
        print(src + ": import cycle: " + " <-> ".join("::".join(m) for m in component))
sys.exit(1 if failed else 0)
