#!/usr/bin/env python3
"""Build the lab's real upstream programs from their Go modules and pack them into local images.

    scripts/real-stack/build.py [forge|cluster|serving|all] [--only ROLE ...] [--list]

Every version comes from gitopslab/model/versions.py (REAL_STACK for programs, IMAGES for the image names):
this script holds only recipes. Binaries go to a cache outside the checkout, keyed by name and version
($GITOPSLAB_REAL_CACHE, default ~/.cache/gitopslab-real); images are tagged with the exact names the
lab pins, so the project's own compose file and pipelines run unchanged. A warm cache costs seconds;
a cold build prints one line per program and logs each build to the cache's logs/ folder.
Programs the proxy refuses (Woodpecker, plugin-git, the kaniko fork) are built from source archives
($GITOPSLAB_UPSTREAM, default ../shared/upstream): each is refused unless its sha256 is the one
versions.py SOURCE_ARCHIVES pins, then extracted into the cache, where the recipe patches its copy.
Standard library only: it runs before the project's virtual environment exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("GITOPSLAB_REAL_CACHE", Path.home() / ".cache" / "gitopslab-real"))
PINS = runpy.run_path(str(REPO / "gitopslab" / "model" / "versions.py"))
DEBIAN_MIRROR = os.environ.get("GITOPSLAB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
UPSTREAM = Path(os.environ.get("GITOPSLAB_UPSTREAM", REPO.parent / "shared" / "upstream"))
# The recipes as data (scripts/real-stack/recipes.py); the names are build.py's too, for its callers.
RECIPES = runpy.run_path(str(HERE / "recipes.py"))
BaseImage, ImageRecipe = RECIPES["BaseImage"], RECIPES["ImageRecipe"]
BASES, IMAGE_RECIPES, HOST_PROGRAMS, TIERS = (RECIPES[k] for k in ("BASES", "IMAGE_RECIPES", "HOST_PROGRAMS", "TIERS"))
EXTRA_LDFLAGS, BINARY_NAMES, EXTRA_FILES = (RECIPES[k] for k in ("EXTRA_LDFLAGS", "BINARY_NAMES", "EXTRA_FILES"))


class BuildError(RuntimeError):
    pass


def say(msg: str) -> None:
    print(f"real-stack: {msg}", file=sys.stderr, flush=True)


def run_logged(argv: list[str], log: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None,
               stdin: bytes | None = None) -> None:
    """Run argv with its output in `log`; on failure raise with the log's tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        done = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, input=stdin)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise BuildError(f"`{' '.join(argv[:4])} ...` failed ({done.returncode}); log {log}:\n{tail}")


def go_env(cgo: bool, goexperiment: str = "", toolchain: str = "") -> dict[str, str]:
    env = dict(os.environ)
    if goexperiment:
        env["GOEXPERIMENT"] = goexperiment
    env.update({
        "CGO_ENABLED": "1" if cgo else "0",
        "GOFLAGS": "-mod=mod -buildvcs=false",
        "GOTOOLCHAIN": toolchain or os.environ.get("GOTOOLCHAIN", "local"),
        "GOPROXY": os.environ.get("GOPROXY", "https://proxy.golang.org"),
    })
    # The compiler and linker are Go programs: with their collector off until a process holds 3 GiB, a cold
    # build spends about 10 % less CPU (kwok cold, quiet: 107 s of user time against 126 s, 71 s of wall
    # clock against 79 s). GOGC is no input to the build cache's keys, so a warm cache stays warm.
    env.setdefault("GOGC", "off")
    env.setdefault("GOMEMLIMIT", "3GiB")
    return env


# ---------------------------------------------------------------------------------------------- programs


def program_dir(name: str) -> Path:
    prog = PINS["REAL_STACK"][name]
    return CACHE / "bin" / f"{name}-{prog.version}"


def download_module(module: str, version: str, log: Path, toolchain: str = "") -> Path:
    log.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], capture_output=True,
                          env=go_env(False, toolchain=toolchain), text=True)
    info: dict[str, Any] = json.loads(done.stdout or "{}") if done.stdout.strip().startswith("{") else {}
    if done.returncode != 0 or not info.get("Dir"):
        raise BuildError(f"go mod download {module}@{version}: {info.get('Error') or done.stderr.strip()}")
    return Path(info["Dir"])


def writable_copy(src: Path, dest: Path) -> Path:
    """A module from the module cache is read-only; modules with replace lines build in a copy."""
    if not (dest / "go.mod").exists():
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest, symlinks=True)
        for path in [dest, *dest.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)
    return dest


def program_lock(name: str) -> threading.Lock:
    """One lock per program: its build and the download lane's prefetch of it never run at once."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def go_steps(name: str, out: Path, log: Path) -> tuple[list[tuple[list[str], Path | None, dict[str, str]]], Path | None]:
    """The `go` commands (argv, folder, environment) that build `name` into `out`, and the source folder,
    made ready first (downloaded, copied, wrapped, or extracted and patched). The build runs them; the
    download lane runs them with -n, which loads every package (downloading its module) and compiles nothing."""
    prog = PINS["REAL_STACK"][name]
    ldflags = "-s -w " + EXTRA_LDFLAGS.get(name, "").format(
        version=prog.version, bare=prog.version.lstrip("v"), minor=prog.version.split(".")[1])
    args = ["-trimpath", "-ldflags", ldflags] + (["-tags", prog.tags] if prog.tags else [])
    if prog.method == "install":
        env = go_env(prog.cgo, prog.goexperiment, prog.toolchain) | {"GOBIN": str(out)}
        target = prog.module if prog.package == "." else f"{prog.module}/{prog.package}"  # `M/.@v` is refused
        return [(["go", "install", *args, f"{target}@{prog.version}"], None, env)], None
    if prog.method == "wrapper":
        src = wrapper_module(name, prog, log)
        pkgs = [f"{prog.module}/{p}".rstrip("/.") for p in prog.package.split()]
        env = go_env(prog.cgo, prog.goexperiment, prog.toolchain) | ({"GONOSUMDB": prog.nosumdb} if prog.nosumdb else {})
        return [(["go", "build", *args, "-o", f"{out}/", *pkgs], src, env)], src
    if prog.method == "archive":
        src = archive_tree(prog.archive)
        patch = ARCHIVE_PATCHES.get(name)
        if patch:
            patch(src, log)
        steps = []
        for step in ARCHIVES["BUILDS"][name]:
            flags = step.ldflags.format(version=prog.version, bare=prog.version.lstrip("v"))
            env = go_env(step.cgo) | {"GOFLAGS": f"-mod={step.mod} -buildvcs=false"}
            step_args = ["-trimpath", "-ldflags", flags] + (["-tags", step.tags] if step.tags else [])
            steps.append((["go", "build", *step_args, "-o", f"{out}/", *[f"./{p}" for p in step.packages]], src, env))
        return steps, src
    src = writable_copy(download_module(prog.module, prog.version, log), CACHE / "src" / f"{name}-{prog.version}")
    binary = out / Path(prog.package).name if prog.package != "." else out / name
    return [(["go", "build", *args, "-o", str(binary), f"./{prog.package}"], src, go_env(prog.cgo, prog.goexperiment))], src


def build_program(name: str) -> Path:
    """Build one REAL_STACK program into its cache folder; return that folder. Skips a finished one."""
    with program_lock(name):
        prog = PINS["REAL_STACK"][name]
        out = program_dir(name)
        if (out / ".done").exists():
            return out
        log = CACHE / "logs" / f"{name}-{prog.version}.log"
        log.unlink(missing_ok=True)
        started = time.monotonic()
        source = PINS["SOURCE_ARCHIVES"][prog.archive].file if prog.method == "archive" else prog.module
        say(f"building {name} {prog.version} from {source} (log: {log})")
        out.mkdir(parents=True, exist_ok=True)
        if name == "woodpecker":  # its server embeds web/dist; the web lane has built it already in a full build
            woodpecker_web_ui(only_if_missing=True)
        steps, src = go_steps(name, out, log)
        for argv, cwd, env in steps:
            run_logged(argv, log, cwd=cwd, env=env)
        renames = BINARY_NAMES.get(name, {}) | {b: w for s in ARCHIVES["BUILDS"].get(name, []) for b, w in s.names.items()}
        for built, wanted in renames.items():
            (out / built).rename(out / wanted)
        for extra in EXTRA_FILES.get(name, []):
            shutil.copytree(src / extra, out / extra, dirs_exist_ok=True)  # type: ignore[operator]
        (out / ".done").write_text(f"{time.monotonic() - started:.0f}\n")
        say(f"built {name} {prog.version} in {time.monotonic() - started:.0f} s")
        return out


def prefetch(name: str) -> None:
    """Download the modules `name`'s build will need, while other programs compile. Skipped when its build
    has begun or is done; a failure is only logged: the build itself then meets it and reports it."""
    lock = program_lock(name)
    if not lock.acquire(blocking=False):
        return
    try:
        prog = PINS["REAL_STACK"][name]
        vendored = prog.method == "archive" and all(step.mod == "vendor" for step in ARCHIVES["BUILDS"][name])
        if (program_dir(name) / ".done").exists() or vendored:
            return
        log = CACHE / "logs" / f"{name}-{prog.version}-fetch.log"
        log.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            steps, _ = go_steps(name, Path(tmp), log)
            for argv, cwd, env in steps:
                run_logged([*argv[:2], "-n", *argv[2:]], log, cwd=cwd, env=env)
    except (BuildError, OSError) as exc:
        if "pattern all:dist/*: no matching files found" in str(exc):
            return  # Woodpecker's go:embed of its web UI, not built yet: the modules were loaded before that
        say(f"prefetch of {name}'s modules failed (its build will retry and report): {str(exc).splitlines()[0]}")
    finally:
        lock.release()


def wrapper_module(name: str, prog: Any, log: Path) -> Path:
    """A module of our own that requires the program's module and pins, at `prog.relative_version`,
    every module its go.mod replaces with a relative path (k8s.io/kubernetes' staging/, etcd's ../api):
    replace lines bind only their own main module, so the wrapper restates them against released versions."""
    upstream = download_module(prog.module, prog.version, log, prog.toolchain)
    dest = CACHE / "src" / f"{name}-{prog.version}-wrapper"
    dest.mkdir(parents=True, exist_ok=True)
    replaces = [line.strip().removeprefix("replace ").split("=>") for line in (upstream / "go.mod").read_text().splitlines()
                if "=>" in line and not line.strip().startswith("//")]
    lines = [f"module gitopslab.local/build-{name}", "", "go 1.25.0", "", f"require {prog.module} {prog.version}", ""]
    for left, right in replaces:
        mod = left.split()[0]
        # Versioned replaces (Argo CD pins k8s.io/* and protobuf this way) bind only their main module too.
        right = right.split("//")[0].strip()
        target = f"{mod} {prog.relative_version}" if right.startswith(".") else right
        lines.append(f"replace {mod} => {target}")
    (dest / "go.mod").write_text("\n".join(lines) + "\n")
    return dest


# ------------------------------------------------------------------------------------- source archives
ARCHIVES = runpy.run_path(str(HERE / "archives.py"))


_EXTRACTING = threading.Lock()  # lanes run in threads; an archive is extracted by one of them


def archive_tree(name: str) -> Path:
    """SOURCE_ARCHIVES[name], its sha256 checked, extracted once into the cache (a writable copy to patch)."""
    pin = PINS["SOURCE_ARCHIVES"][name]
    try:
        with _EXTRACTING:
            return ARCHIVES["extracted"](UPSTREAM / pin.file, pin.sha256, f"SOURCE_ARCHIVES['{name}']", CACHE / "src")
    except ARCHIVES["ArchiveError"] as exc:
        raise BuildError(str(exc)) from exc


def patch_woodpecker(src: Path, log: Path) -> None:
    """What ../shared/upstream/README.md's recipe does, on the cache's copy (never the archive):
    xormigrate from its archive (the proxy refuses its vanity path), an empty module for the Dameng driver
    xorm's go.mod names (its host is refused; no package of it is compiled). web/dist: woodpecker_web_ui."""
    stub = CACHE / "src" / "stub-gitee-dm"
    stub.mkdir(parents=True, exist_ok=True)
    (stub / "go.mod").write_text("module gitee.com/travelliu/dm\n\ngo 1.16\n")
    for module, folder in (("src.techknowlogick.com/xormigrate", archive_tree("xormigrate")),
                           ("gitee.com/travelliu/dm", stub)):
        run_logged(["go", "mod", "edit", "-replace", f"{module}={folder}"], log, cwd=src, env=go_env(False))


def woodpecker_web_ui(only_if_missing: bool = False) -> None:
    """Woodpecker's web UI in its extracted tree (the web lane runs it beside the Go compiles)."""
    web = archive_tree("woodpecker") / "web"
    if not (only_if_missing and (web / "dist" / "index.html").exists()):
        build_web_ui(web, CACHE / "logs" / "woodpecker-web.log")


def build_web_ui(web: Path, log: Path) -> None:
    """web/dist, which the server embeds (go:embed), built with pnpm from upstream's lockfile (npm registry).
    Without npx or the registry, a placeholder page stands in, said on stderr: the API and the OAuth
    sign-in do not need the UI, the workshop's Woodpecker pages do."""
    index = web / "dist" / "index.html"
    if index.exists() and index.read_text() != ARCHIVES["WEB_PLACEHOLDER"]:
        return
    pnpm = [shutil.which("npx") or "npx", "-y", ARCHIVES["PNPM"], "--config.manage-package-manager-versions=false"]
    try:
        run_logged([*pnpm, "install", "--frozen-lockfile"], log, cwd=web, env=dict(os.environ, CI="true"))
        run_logged([*pnpm, "run", "build"], log, cwd=web, env=dict(os.environ, CI="true"))
    except (BuildError, OSError) as exc:
        say(f"Woodpecker's web UI could not be built ({str(exc).splitlines()[0]}); embedding a placeholder page")
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_text(ARCHIVES["WEB_PLACEHOLDER"])


ARCHIVE_PATCHES = {"woodpecker": patch_woodpecker}




# ------------------------------------------------------------------------------------------------ images


def ensure_base(base: BaseImage) -> None:
    if not base.packages or docker_ok(["image", "inspect", base.tag]):
        return
    say(f"debootstrap {base.tag} ({', '.join(base.packages)}; about a minute)")
    log = CACHE / "logs" / f"base-{base.tag.replace(':', '-').replace('/', '-')}.log"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        run_logged(["debootstrap", "--variant=minbase", f"--include={','.join(base.packages)}", "bookworm",
                    str(root), DEBIAN_MIRROR], log)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man"):
            shutil.rmtree(root / junk, ignore_errors=True)
        shutil.copy("/etc/ssl/certs/ca-certificates.crt", root / "etc/ssl/certs/ca-certificates.crt")
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(["docker", "import", "-c", "ENV LANG=C.UTF-8", "-", base.tag], stdin=tar.stdout,
                             capture_output=True, text=True)
        tar.wait()
        if imp.returncode != 0:
            raise BuildError(f"docker import {base.tag}: {imp.stderr.strip()}")


def docker_ok(argv: list[str]) -> bool:
    return subprocess.run(["docker", *argv], capture_output=True).returncode == 0


def image_key(recipe: ImageRecipe) -> str:
    """Changes whenever the recipe's files, programs or base change: the image is rebuilt then."""
    digest = hashlib.sha256()
    folder = HERE / "images" / recipe.role
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    for name in recipe.programs:
        digest.update(f"{name}={PINS['REAL_STACK'][name].version}".encode())
    for archive in sorted({a for a, _ in recipe.archive_files} | set(recipe_archives(recipe))):
        digest.update(PINS["SOURCE_ARCHIVES"][archive].sha256.encode())
    digest.update(BASES[recipe.base].tag.encode())
    return digest.hexdigest()[:16]


def recipe_archives(recipe: ImageRecipe) -> list[str]:
    """Every source archive the recipe reads: its programs' and their patches' (Woodpecker's xormigrate)."""
    names = [PINS["REAL_STACK"][p].archive for p in recipe.programs if PINS["REAL_STACK"][p].archive]
    names += ["xormigrate"] if "woodpecker" in names else []
    return names + [a for a, _ in recipe.archive_files if a not in names]


def check_release(recipe: ImageRecipe, image: str) -> None:
    if recipe.release_of is None:
        return
    tag = image.rsplit(":", 1)[-1].lstrip("v")
    pinned = PINS["REAL_STACK"].get(recipe.release_of) or PINS["SOURCE_ARCHIVES"][recipe.release_of]
    version = pinned.version.lstrip("v")
    if tag != version:
        raise BuildError(f"versions.py pins image {image} but builds {recipe.release_of} {version}: make the "
                         f"IMAGES['{recipe.role}'] tag and REAL_STACK['{recipe.release_of}'] the same release")


def build_image(recipe: ImageRecipe) -> str:
    image = PINS["IMAGES"][recipe.role]
    check_release(recipe, image)
    key = image_key(recipe)
    if image_current(recipe):
        return image
    ensure_base(BASES[recipe.base])
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp)
        shutil.copytree(HERE / "images" / recipe.role, ctx, dirs_exist_ok=True)
        for name in recipe.programs:
            shutil.copytree(build_program(name), ctx / name, ignore=shutil.ignore_patterns(".done"))
        for archive, path in recipe.archive_files:
            (ctx / archive / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(archive_tree(archive) / path, ctx / archive / path)
        if recipe.base == "scratch":  # what upstream copies from its build stage: CA roots, static busybox
            (ctx / "certs").mkdir()
            shutil.copy("/etc/ssl/certs/ca-certificates.crt", ctx / "certs" / "ca-certificates.crt")
            (ctx / "empty").mkdir()
            if recipe.role == "kaniko":
                shutil.copy2(static_busybox(), ctx / "busybox")
        log = CACHE / "logs" / f"image-{recipe.role}.log"
        run_logged(["docker", "build", "-q", "--build-arg", f"BASE={BASES[recipe.base].tag}", "--label",
                    f"{LABEL}={key}", "-t", image, str(ctx)], log, env=dict(os.environ, DOCKER_BUILDKIT="0"))
    say(f"image {image} ({recipe.role}) built")
    return image


def image_current(recipe: ImageRecipe) -> bool:
    """The pinned image exists and carries the label of this recipe's key."""
    seen = subprocess.run(["docker", "image", "inspect", "-f", f'{{{{index .Config.Labels "{LABEL}"}}}}',
                           PINS["IMAGES"][recipe.role]], capture_output=True, text=True)
    return seen.returncode == 0 and seen.stdout.strip() == image_key(recipe)


LABEL = "io.gitopslab.real-stack.key"


def static_busybox() -> Path:
    """kaniko's debug image (plugin-kaniko's base) carries busybox:musl at /busybox: a static busybox."""
    found = shutil.which("busybox") or "/bin/busybox"
    done = subprocess.run(["file", "-L", found], capture_output=True, text=True)
    if not Path(found).is_file() or "statically linked" not in done.stdout:
        raise BuildError(f"the kaniko image needs a statically linked busybox; {found} is not one "
                         "(install Debian's busybox-static: `sudo apt-get install busybox-static`)")
    return Path(found)


SCHEDULE = runpy.run_path(str(HERE / "schedule.py"))


def plan_tasks(programs: list[str], recipes: list[ImageRecipe]) -> tuple[list[Any], list[str], list[ImageRecipe]]:
    """The lanes' tasks (schedule.py) for what the cache lacks: every host program, the programs of the
    images that are not current, the bases those images need. Returns (tasks, programs to build, stale images)."""
    stale = [r for r in recipes if not image_current(r)]
    wanted = dict.fromkeys([*programs, *(p for r in stale for p in r.programs)])
    todo = [p for p in SCHEDULE["compile_order"](wanted) if not (program_dir(p) / ".done").exists()]
    task = SCHEDULE["Task"]
    tasks = [task(f"go:{p}", "compile", (lambda p=p: build_program(p)), group=build_group(p),
                  after=("web:woodpecker",) if p == "woodpecker" else ()) for p in todo]
    tasks += [task(f"fetch:{p}", "fetch", (lambda p=p: prefetch(p))) for p in todo]
    if "woodpecker" in todo:
        tasks.append(task("web:woodpecker", "web", woodpecker_web_ui))
    bases = dict.fromkeys(BASES[r.base] for r in stale if BASES[r.base].packages)
    tasks += [task(f"base:{b.tag}", "bases", (lambda b=b: ensure_base(b))) for b in bases]
    return tasks, todo, stale


def build_group(name: str) -> str:
    """Programs built with one Go toolchain and one GOEXPERIMENT can share build-cache entries: schedule.py
    compiles them one after another; programs of other groups (trivy, Argo CD) compile beside them."""
    prog = PINS["REAL_STACK"][name]
    return f"go {prog.toolchain or 'local'} {prog.goexperiment}".strip()


def recorded_seconds(programs: list[str]) -> dict[str, int]:
    """What each cached program's .done marker holds: the seconds of its last cold build."""
    found = {p: (program_dir(p) / ".done").read_text().strip() for p in programs if (program_dir(p) / ".done").exists()}
    return {p: int(v) if v.isdigit() else 0 for p, v in found.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tier", nargs="*", default=["forge"],
                        help=f"one or more of {', '.join(TIERS)}, or all (default forge); several tiers are built "
                             "as one plan, their compiles sharing the lanes")
    parser.add_argument("--list", action="store_true",
                        help="print the images and host programs (their cache folders) this tier provides")
    parser.add_argument("--only", action="append", metavar="ROLE", default=[],
                        help="build only these images or host programs of the tier (repeatable)")
    # One at a time by default: two at a time measured slower on this busy 2-core machine (docs/REAL_STACK.md).
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("GITOPSLAB_BUILD_JOBS", "1")),
                        help="Go programs compiled at a time, one per build group (default 1, or "
                             "$GITOPSLAB_BUILD_JOBS; 2 only where cores are to spare)")
    opts = parser.parse_args(argv)
    unknown_tiers = sorted(set(opts.tier) - {*TIERS, "all"})
    if unknown_tiers:
        parser.error(f"tier {', '.join(unknown_tiers)}: no such tier; the tiers are {', '.join(TIERS)} and all")
    if opts.jobs < 1:
        parser.error(f"--jobs {opts.jobs}: at least 1 Go program has to compile at a time")
    tiers = TIERS if "all" in opts.tier else sorted(set(opts.tier))  # one order, for the locks below
    recipes = [r for t in tiers for r in IMAGE_RECIPES.get(t, [])]
    programs = [p for t in tiers for p in HOST_PROGRAMS.get(t, [])]
    if opts.only:
        unknown = sorted(set(opts.only) - {r.role for r in recipes} - set(programs))
        if unknown:
            parser.error(f"--only {', '.join(unknown)}: not in {' '.join(tiers)}; it has "
                         f"{', '.join([r.role for r in recipes] + programs)}")
        recipes = [r for r in recipes if r.role in opts.only]
        programs = [p for p in programs if p in opts.only]
    if opts.list:
        print("\n".join([PINS["IMAGES"][r.role] for r in recipes] + [str(program_dir(p)) for p in programs]))
        return 0
    # Every source archive is checked first, whatever the cache holds: a wrong file is refused at once.
    try:
        for recipe in recipes:
            check_release(recipe, PINS["IMAGES"][recipe.role])
        host_archives = [PINS["REAL_STACK"][p].archive for p in programs if PINS["REAL_STACK"][p].archive]
        for archive in dict.fromkeys([*(a for r in recipes for a in recipe_archives(r)), *host_archives]):
            pin = PINS["SOURCE_ARCHIVES"][archive]
            ARCHIVES["verified"](UPSTREAM / pin.file, pin.sha256, f"SOURCE_ARCHIVES['{archive}']")
    except (ARCHIVES["ArchiveError"], BuildError) as exc:
        say(f"FAILED: {exc}")
        return 1
    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    # One lock per tier: a second build of the same tier (CI, a test fixture) waits for the first, never
    # races it; the tiers share no program, so the forge tier never waits for a cold cluster build.
    locks = [(CACHE / f".lock-{tier}").open("w") for tier in tiers]  # several tiers: each, in one order
    if sys.platform != "win32":
        import fcntl

        for lock in locks:
            fcntl.flock(lock, fcntl.LOCK_EX)
    all_programs = list(dict.fromkeys([*programs, *(p for r in recipes for p in r.programs)]))
    try:
        tasks, todo, stale = plan_tasks(programs, recipes)
        if todo:
            guess = sum(SCHEDULE["COLD_SECONDS"].get(p, SCHEDULE["DEFAULT_SECONDS"]) for p in todo)
            say(f"cold build of {', '.join(todo)} (longest first, up to {opts.jobs} at a time, one per build group; the last cold build "
                f"of these took {guess / 60:.0f} min of compiles on a 2-core machine)")
        seconds = SCHEDULE["run_lanes"](tasks, opts.jobs, say)
        for recipe in stale:
            build_image(recipe)
    except SCHEDULE["LaneError"] as exc:
        if not isinstance(exc.cause, BuildError):
            raise exc.cause from exc
        say(f"FAILED ({exc.task}): {exc}")
        return 1
    except BuildError as exc:
        say(f"FAILED: {exc}")
        return 1
    built = {name[3:]: secs for name, secs in seconds.items() if name.startswith("go:")}
    beside = {name: secs for name, secs in seconds.items() if name.startswith(("web:", "base:"))}
    for line in SCHEDULE["report"](built, time.monotonic() - started, opts.jobs, recorded_seconds(all_programs), beside):
        say(line)
    say(f"{', '.join(tiers)} ready in {time.monotonic() - started:.0f} s (cache {CACHE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
