#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that tools/dev.sh's PACKAGES are enough for what a configure step really used.

A package that happens to be on the machine (CI's or a developer's) hides a miss in PACKAGES
until a fresh machine fails at configure (issue 11: Qt6Charts needs Qt6OpenGL's CMake files,
which are in libqt6opengl6-dev). After a configure, this lists every file it used from the
system: every CMake file it loaded (the inputs of build.ninja's RERUN_CMAKE rule, which is
exactly the set CMake would re-read) and every FILEPATH CMakeCache.txt entry (the libraries and
programs it found). Each is mapped to its Debian package (dpkg -S) and
must be one of PACKAGES, reachable from them through Depends or Pre-Depends (any installed
alternative or provider counts; Recommends do not, as dev.sh installs without them), or
Essential. Anything else fails the check
with the package named, and the file that needs it.

    python3 tools/check_deps.py BUILD_DIR [--packages P1 P2 ...] [--without P ...]

Without --packages, the list is `bash tools/dev.sh packages`. --without drops packages from it
(the test proves the check catches a removed libqt6opengl6-dev this way).
"""
import argparse
import os
import re
import subprocess
import sys


def source_and_build_dirs(build_dir):
    src = None
    with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("CMAKE_HOME_DIRECTORY:"):
                src = line.split("=", 1)[1].strip()
    return [os.path.realpath(p) for p in (src, build_dir) if p]


def cmake_files_loaded(build_dir):
    """The files the configure step read: the inputs of build.ninja's rule that re-runs CMake."""
    path = os.path.join(build_dir, "build.ninja")
    text = open(path, encoding="utf-8").read().replace("$\n", " ")
    for line in text.splitlines():
        if line.startswith("build build.ninja") and "RERUN_CMAKE" in line:
            deps = line.split("|", 1)[1] if "|" in line else ""
            return [d.replace("$ ", " ") for d in re.split(r"(?<!\$) +", deps.strip()) if d]
    raise SystemExit(f"check_deps: {path} has no RERUN_CMAKE rule (configure with the Ninja generator first)")


# Cache entries that a module looks for when present but nothing of ours uses: a fresh machine
# configures and builds the same without them. Each needs a reason.
OPTIONAL_CACHE_ENTRIES = {
    "OPENGL_glu_LIBRARY": "FindOpenGL (via Qt6Gui's WrapOpenGL) records GLU if present; nothing links it",
    "OPENGL_egl_LIBRARY": "FindOpenGL records EGL if present; WrapOpenGL links only OpenGL::GL (GLX, OpenGL)",
}


def cache_paths(build_dir):
    """FILEPATH entries of CMakeCache.txt: the libraries and programs configure found. (PATH
    entries such as include directories are /usr/include, shared by hundreds of packages.)"""
    out = []
    with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.+-]+):FILEPATH=(.*)$", line.rstrip("\n"))
            if not m:
                continue
            name, value = m.groups()
            if name in OPTIONAL_CACHE_ENTRIES:
                continue
            if value.startswith("/") and not value.endswith("-NOTFOUND"):
                out.append((value, f"CMakeCache.txt {name}"))
    return out


def owners(paths):
    """dpkg -S for each path (and the /usr-merged twin and the resolved symlink): {path: {pkg}}."""
    def variants(p):
        twin = lambda v: v[4:] if v.startswith("/usr/") else "/usr" + v
        r = os.path.realpath(p)
        return list(dict.fromkeys([p, twin(p), r, twin(r)]))

    queries = sorted({v for p in paths for v in variants(p)})
    found = {}
    for i in range(0, len(queries), 500):
        r = subprocess.run(["dpkg", "-S", *queries[i:i + 500]], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            if ": " not in line or line.startswith("diversion "):
                continue
            pkgs, path = line.split(": ", 1)
            found.setdefault(path, set()).update(p.strip().split(":")[0] for p in pkgs.split(","))
    # The first variant that dpkg knows: a -dev package's libfoo.so symlink belongs to the -dev
    # package, not to the runtime package its target is in.
    return {p: next((found[v] for v in variants(p) if v in found), set()) for p in paths}


def installed_packages():
    """{name: (depends alternatives, provides, essential)} of every installed package."""
    r = subprocess.run(["dpkg-query", "-W", "-f",
                        "${db:Status-Abbrev}\t${Package}\t${Pre-Depends}, ${Depends}\t${Provides}\t${Essential}\n"],
                       capture_output=True, text=True, check=True)
    db = {}
    for line in r.stdout.splitlines():
        status, name, deps, provides, ess = line.split("\t")
        if not status.startswith("ii"):
            continue
        alts = [[re.sub(r"[ (:].*", "", a.strip()) for a in d.split("|")] for d in deps.split(",") if d.strip()]
        db[name] = (alts, {re.sub(r"[ (:].*", "", p.strip()) for p in provides.split(",") if p.strip()},
                    ess == "yes")
    return db


def closure(packages, db):
    """PACKAGES, what they pull in through (Pre-)Depends among the installed packages, and Essential."""
    providers = {}
    for name, (_, provides, _) in db.items():
        for v in provides | {name}:
            providers.setdefault(v, set()).add(name)
    seen = {n for n, (_, _, ess) in db.items() if ess}
    todo = [p for p in packages if p in db]
    seen.update(todo)
    while todo:
        for alts in db[todo.pop()][0]:
            for a in alts:
                for p in providers.get(a, ()):
                    if p not in seen:
                        seen.add(p)
                        todo.append(p)
    return seen


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--packages", nargs="*")
    ap.add_argument("--without", nargs="*", default=[])
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    packages = a.packages
    if packages is None:
        packages = subprocess.run(["bash", os.path.join(here, "dev.sh"), "packages"],
                                  capture_output=True, text=True, check=True).stdout.split()
    packages = [p for p in packages if p not in a.without]

    ours = source_and_build_dirs(a.build_dir)
    used = [(f, "loaded by configure") for f in cmake_files_loaded(a.build_dir)]
    used += cache_paths(a.build_dir)
    used = [(os.path.normpath(f if os.path.isabs(f) else os.path.join(a.build_dir, f)), why)
            for f, why in used]
    used = [(f, why) for f, why in used
            if os.path.exists(f) and not any(os.path.realpath(f).startswith(d + os.sep) for d in ours)]

    owner = owners([f for f, _ in used])
    covered = closure(packages, installed_packages())
    missing, unowned = {}, []
    for f, why in used:
        pkgs = owner[f]
        if not pkgs:
            unowned.append((f, why))
        elif not pkgs & covered:
            missing.setdefault(" or ".join(sorted(pkgs)), []).append((f, why))

    for pkg, files in sorted(missing.items()):
        f, why = files[0]
        more = f" (and {len(files) - 1} more files)" if len(files) > 1 else ""
        print(f"check_deps: package {pkg} is not in tools/dev.sh PACKAGES nor pulled in by them: "
              f"{f} ({why}){more}", file=sys.stderr)
    for f, why in unowned:
        print(f"check_deps: {f} ({why}) belongs to no Debian package: a fresh machine would not have it",
              file=sys.stderr)
    if missing or unowned:
        return 1
    print(f"check_deps: OK, {len(used)} system files used by configure come from tools/dev.sh "
          f"PACKAGES ({len(packages)} packages, {len(covered)} with dependencies and Essential)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
