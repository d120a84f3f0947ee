#!/usr/bin/env python3
"""Checks the house rules of docs/architecture.md on the source tree (TAP):
arrows between folders point one way, no module includes another in a circle,
no module calls another in a circle (from the symbols of the built static
libraries, when given), no source file is longer than the limit, and every
function a scenario can call (lua/) checks the scenario's CPU limit first.

usage: check_rooms.py SOURCE_ROOT [LIBRARY.a ...]"""
import collections
import os
import re
import subprocess
import sys

# Which folders each folder may include from (itself always).
ALLOWED = {
    'costmodel': set(),
    'traces': {'costmodel'},
    'sim': {'costmodel', 'traces'},
    'report': {'sim', 'costmodel', 'traces'},
    'lua': {'report', 'sim', 'costmodel', 'traces'},
    'cli': {'lua', 'report', 'sim', 'costmodel', 'traces'},
}
MAX_LINES = 800


def sources(root):
    for room in ALLOWED:
        d = os.path.join(root, room)
        for f in sorted(os.listdir(d)):
            if f.endswith(('.c', '.h')):
                yield room, os.path.join(d, f)


def module(path):
    """A module is a .c with its .h; NAME_private.h belongs to NAME."""
    base = os.path.basename(path).rsplit('.', 1)[0]
    return re.sub(r'_private$', '', base)


def call_graph(libs):
    """Module -> modules whose functions or data it uses, from `nm` on the
    static libraries (objects are named FOLDER_MODULE.c.o by meson)."""
    defined, used = {}, collections.defaultdict(set)
    for lib in libs:
        out = subprocess.run(['nm', '-A', lib], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split(':', 2)
            if len(parts) < 3 or not parts[1].endswith('.c.o'):
                continue
            mod = os.path.basename(parts[1])[:-len('.c.o')].split('_', 1)[-1]
            fields = parts[2].split()
            kind, sym = fields[-2], fields[-1]
            if kind in 'TDBRC':
                defined[sym] = mod
            elif kind == 'U':
                used[mod].add(sym)
    graph = collections.defaultdict(set)
    for mod, syms in used.items():
        for sym in syms:
            if sym in defined and defined[sym] != mod:
                graph[mod].add(defined[sym])
    return graph


def main(root, libs):
    files = list(sources(root))
    room_of = {os.path.basename(p): room for room, p in files}
    results = []
    bad_arrows, long_files = [], []
    graph = collections.defaultdict(set)
    for room, path in files:
        with open(path, encoding='utf-8') as fh:
            lines = fh.read().split('\n')
        if len(lines) - 1 > MAX_LINES:
            long_files.append(f'{os.path.relpath(path, root)} has {len(lines) - 1} lines')
        for n, line in enumerate(lines, 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m or m.group(1) not in room_of:
                continue
            to = room_of[m.group(1)]
            if to != room and to not in ALLOWED[room]:
                bad_arrows.append(f'{os.path.relpath(path, root)}:{n} includes {m.group(1)} '
                                  f'({room} -> {to})')
            a, b = module(path), module(m.group(1))
            if a != b:
                graph[a].add(b)
    results.append(('arrows between folders point one way', bad_arrows))
    results.append((f'no source file over {MAX_LINES} lines', long_files))
    results.append(('no module includes another in a circle', cycles(graph)))
    results.append(('every Lua face checks the CPU limit on entry', unchecked_faces(root)))
    if libs:
        results.append(('no module calls another in a circle', cycles(call_graph(libs))))
    print(f'1..{len(results)}')
    for i, (name, problems) in enumerate(results, 1):
        print(f'{"not ok" if problems else "ok"} {i} - {name}')
        for p in problems:
            print(f'# {p}')
    return 1 if any(p for _, p in results) else 0


def body(src, fn):
    """The body of C function fn defined in src, comments removed, by
    matching braces ('' if not found)."""
    m = re.search(r'^(?:static )?int ' + fn + r'\(lua_State \*L[^)]*\)\s*\{', src, re.M)
    if not m:
        return ''
    depth, k = 1, m.end()
    while depth and k < len(src):
        depth += {'{': 1, '}': -1}.get(src[k], 0)
        k += 1
    text = re.sub(r'/\*.*?\*/', '', src[m.end():k - 1], flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def checks_first(src, fn, seen=()):
    """fn's first statement is lua_limits_check_cpu(...), or fn hands over at
    once (return F(L, ...)) to a function whose first statement is."""
    first = body(src, fn).strip().split(';', 1)[0].strip()
    if first.startswith('lua_limits_check_cpu('):
        return True
    m = re.match(r'return (\w+)\(L\b', first)
    return bool(m) and m.group(1) not in seen and checks_first(src, m.group(1), seen + (fn,))


def unchecked_faces(root):
    """Functions registered for scenarios (lua_register, luaL_Reg) that do
    not check the scenario's CPU limit as their first statement: a loop over
    such a face would escape the limit (traces/lua_limits.h)."""
    out, d = [], os.path.join(root, 'lua')
    for f in sorted(os.listdir(d)):
        if not f.endswith('.c'):
            continue
        with open(os.path.join(d, f), encoding='utf-8') as fh:
            src = fh.read()
        faces = re.findall(r'lua_register\(L, "(\w+)", (\w+)\)', src)
        faces += re.findall(r'\{"(\w+)", (api_\w+)\}', src)
        for name, fn in faces:
            if not checks_first(src, fn):
                out.append(f'lua/{f}: {name} ({fn}) does not call lua_limits_check_cpu first')
    return out


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append('circle: ' + ' -> '.join(sorted(comp)))

    sys.setrecursionlimit(100000)
    for v in sorted(list(graph)):
        if v not in index:
            visit(v)
    return out


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else '.', sys.argv[2:]))
