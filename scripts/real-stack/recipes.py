"""What scripts/real-stack/build.py builds, as data: the flags and files of each Go program's build, and
each tier's images (their Debian base, the programs they carry, the release their tag must name) and
host programs. Loaded by build.py with runpy (build.py runs as a script); standard library only.
Versions are not here: gitopslab/model/versions.py pins them (REAL_STACK, IMAGES, SOURCE_ARCHIVES).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ------------------------------------------------------------------------------------------------ programs

# Version strings the upstream Makefiles stamp into the binary.
EXTRA_LDFLAGS = {
    "gitea": '-X "main.Version={bare}" -X "main.Tags=sqlite sqlite_unlock_notify"',
    "registry": "-X github.com/distribution/distribution/v3/version.version={version}",
    "trivy": "-X github.com/aquasecurity/trivy/pkg/version/app.ver={bare}",
    # Without these /version says v0.0.0 and Argo CD and Helm see kubeVersion 0.0.
    "kubernetes": "-X k8s.io/component-base/version.gitVersion={version} -X k8s.io/component-base/version.gitMajor=1 "
                  "-X k8s.io/component-base/version.gitMinor={minor}",
    "kustomize": "-X sigs.k8s.io/kustomize/api/provenance.version={version}",
    "argocd": "-X github.com/argoproj/argo-cd/v3/common.version={bare} -X github.com/argoproj/argo-cd/v3/common.gitTag={version} "
              "-X github.com/argoproj/argo-cd/v3/common.gitTreeState=clean",
}
# Binaries named after their package folder that upstream ships under another name.
BINARY_NAMES = {"argocd": {"cmd": "argocd"}}
# Without the `bindata` tag Gitea reads these from its static root at run time.
EXTRA_FILES = {"gitea": ["templates", "options", "public"]}


# ------------------------------------------------------------------------------------------------ images


@dataclass(frozen=True)
class BaseImage:
    tag: str
    packages: tuple[str, ...]


BASES = {
    # Debian git 2.39, wget for the compose healthchecks, util-linux's setpriv to drop to uid 1000.
    "forge": BaseImage("gitopslab-forge-base:bookworm", ("ca-certificates", "git", "wget", "util-linux")),
    "python": BaseImage("gitopslab-python-base:bookworm",
                        ("ca-certificates", "git", "wget", "python3", "python3-venv", "python3-pip", "python-is-python3")),
    # plugin-git's image: upstream's Alpine packages (git, openssh, curl, git-lfs, ca-certificates) from Debian.
    "clone": BaseImage("gitopslab-clone-base:bookworm", ("ca-certificates", "git", "git-lfs", "openssh-client", "curl")),
    # Woodpecker's and kaniko's images are FROM scratch upstream: static binaries, nothing to debootstrap.
    "scratch": BaseImage("scratch", ()),
}


@dataclass(frozen=True)
class ImageRecipe:
    role: str  # the key in versions.IMAGES whose exact name the image gets
    base: str
    programs: tuple[str, ...] = field(default_factory=tuple)
    # The pinned image tag must be this program's (or source archive's) release: checked before building.
    release_of: str | None = None
    # Files taken from SOURCE_ARCHIVES into the build context as <archive>/<path> (plugin-kaniko's plugin.sh).
    archive_files: tuple[tuple[str, str], ...] = ()


IMAGE_RECIPES: dict[str, list[ImageRecipe]] = {
    "forge": [
        ImageRecipe("gitea", "forge", ("gitea",), release_of="gitea"),
        ImageRecipe("registry", "forge", ("registry",), release_of="registry"),
        ImageRecipe("alpine-git", "forge"),
        ImageRecipe("python", "python"),
        ImageRecipe("trivy", "forge", ("trivy",), release_of="trivy"),
        ImageRecipe("woodpecker-server", "scratch", ("woodpecker",), release_of="woodpecker"),
        ImageRecipe("woodpecker-agent", "scratch", ("woodpecker",), release_of="woodpecker"),
        ImageRecipe("clone", "clone", ("plugin-git",), release_of="plugin-git"),
        ImageRecipe("kaniko", "scratch", ("kaniko-executor",), release_of="plugin-kaniko",
                    archive_files=(("plugin-kaniko", "plugin.sh"), ("kaniko", "files/nsswitch.conf"))),
    ],
}
# Programs a tier runs on the host rather than in an image (the cluster tier's control plane).
HOST_PROGRAMS: dict[str, list[str]] = {"forge": [],
                                       "cluster": ["etcd", "kubernetes", "kwok", "kustomize", "helm", "argocd", "minio-upstream"],
                                       # Issue 27: the KServe controller, run against the cluster tier's API server.
                                       # Its own tier (and lock), so it never waits for a cold cluster build.
                                       "serving": ["kserve-controller"]}
TIERS = sorted(set(IMAGE_RECIPES) | set(HOST_PROGRAMS))
