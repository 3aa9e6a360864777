#!/usr/bin/env python3
"""Fails when the files of a crate import each other in a circle.

Inside each crate, imports must run one way (each crate's lib.rs documents the order). This
reads the `use` declarations and `crate::`/`super::` paths of every `src/**/*.rs` file, resolves
each to the file of the module it names, and reports every strongly connected set of more than
one file. A file naming an item of a module that encloses it (a child using its parent's
`mod.rs`) is lexical scope, not an import, and is not counted.

    scripts/import-circles.py [CRATE_DIR ...]   # default: every workspace member
    scripts/import-circles.py --self-test       # proves it finds a circle, and passes a clean tree

Exit status: 0 without circles, 1 with any (each printed with the names that tie it).
"""

import re
import sys
import tempfile
from pathlib import Path

USE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M)
PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")


def modules(src: Path) -> dict:
    """Module path (tuple of names) -> file, for every .rs file under `src`."""
    found = {}
    for file in src.rglob("*.rs"):
        parts = list(file.relative_to(src).with_suffix("").parts)
        if parts[-1] in ("lib", "main", "mod"):
            parts = parts[:-1]
        if "bin" in file.relative_to(src).parts[:1]:
            continue
        found[tuple(parts)] = file
    return found


def module_of(file: Path, src: Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return tuple(parts)


def expand(tree: str) -> list:
    """`a::{b, c::{d, e}}` -> [`a::b`, `a::c::d`, `a::c::e`] (no `self`/`as` subtleties needed)."""
    tree = re.sub(r"\s+as\s+[A-Za-z0-9_]+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix: str, text: str):
        depth, start, items = 0, 0, []
        for i, char in enumerate(text):
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            elif char == "," and depth == 0:
                items.append(text[start:i])
                start = i + 1
        items.append(text[start:])
        for item in filter(None, items):
            if "{" in item:
                head, rest = item.split("{", 1)
                walk(prefix + head, rest[: rest.rindex("}")])
            else:
                out.append(prefix + item)

    walk("", tree)
    return [path.replace("::self", "") for path in out]


def targets(text: str, module: tuple) -> set:
    """What `text`, the source of `module`, reaches: `(base, path)` pairs, the path read from
    `base` (`crate::` from the root, `super::` from a parent, a bare path from `module`)."""
    text = re.sub(r"//[^\n]*", "", text)
    paths = []
    for tree in USE.findall(text):
        paths.extend(expand(tree))
    paths.extend(kind + rest for kind, rest in PATH.findall(text))
    reached = set()
    for path in paths:
        segments = path.split("::")
        if segments[0] == "crate":
            base, rest = (), segments[1:]
        elif segments[0] == "super":
            base = module
            while segments and segments[0] == "super":
                base, segments = base[:-1], segments[1:]
            rest = segments
        elif segments[0] == "self":
            base, rest = module, segments[1:]
        else:
            base, rest = module, segments  # a child module, or another crate (not found)
        reached.add((base, tuple(rest)))
        continue
    return reached


def circles(crate: Path) -> list:
    src = crate / "src"
    files = modules(src)
    edges = {}
    for module, file in files.items():
        own = module
        for base, rest in targets(file.read_text(), module):
            # The longest known module the path names.
            target = None
            for length in range(len(rest), -1, -1):
                candidate = base + rest[:length]
                if candidate in files:
                    target = candidate
                    break
            if target is None or target == own:
                continue
            if own[: len(target)] == target:
                continue  # an enclosing module: lexical scope
            edges.setdefault(own, set()).add(target)
    return [
        [files[module] for module in component]
        for component in strongly_connected(edges)
        if len(component) > 1
    ]


def strongly_connected(edges: dict) -> list:
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def members(root: Path) -> list:
    manifest = (root / "Cargo.toml").read_text()
    listed = re.search(r"members\s*=\s*\[([^\]]*)\]", manifest)
    return [root / name for name in re.findall(r'"([^"]+)"', listed.group(1))] if listed else []


def check(crates: list) -> int:
    failed = 0
    for crate in crates:
        for circle in circles(crate):
            failed += 1
            names = ", ".join(str(file.relative_to(crate.parent)) for file in circle)
            print(f"import circle in {crate.name}: {names}")
    if not failed:
        print(f"no import circle in {len(crates)} crates")
    return 1 if failed else 0


def self_test() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        crate = Path(scratch) / "demo"
        (crate / "src" / "room").mkdir(parents=True)
        write = lambda name, text: (crate / "src" / name).write_text(text)
        write("lib.rs", "mod floor;\nmod room;\nmod top;\n")
        write("floor.rs", "pub struct Floor;\n")
        write("top.rs", "use crate::{floor::Floor, room::Room};\n")
        write("room/mod.rs", "mod inner;\npub use inner::Room;\n")
        write("room/inner.rs", "use super::super::floor::Floor;\nuse super::Shared;\npub struct Room;\n")
        assert circles(crate) == [], circles(crate)
        write("floor.rs", "pub struct Floor(crate::top::Top);\n")
        found = circles(crate)
        assert len(found) == 1 and {f.name for f in found[0]} >= {"floor.rs", "top.rs"}, found
    print("self-test: a clean tree passes, a deliberately added circle is found")
    return 0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments == ["--self-test"]:
        sys.exit(self_test())
    root = Path(__file__).resolve().parent.parent
    crates = [Path(a).resolve() for a in arguments] or members(root)
    sys.exit(check(crates))
