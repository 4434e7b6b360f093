"""The CRD schema folder every test lints with (GITOPSLAB_SCHEMAS): ../shared/contracts as it is, by
symlink (contracts are never copied into the project), plus KServe v0.20.0's InferenceService CRD as
the release ships it, read from the pinned source archive (sha256 checked) at test time. shared/ is
read-only input and carries no KServe CRD; lint reads the CRD manifest itself (gitopslab/lint/schemas.py).
The sha256 check is scripts/real-stack/archives.py's, the one build.py uses (loaded with runpy: the
script is stdlib-only and not a package), so both refuse a wrong archive the same way."""

from __future__ import annotations

import os
import runpy
import tarfile
from pathlib import Path

from gitopslab.model.versions import SOURCE_ARCHIVES

REPO = Path(__file__).resolve().parents[2]
# Read once at import: the tests' autouse fixture clears GITOPSLAB_* variables for each test.
UPSTREAM = Path(os.environ.get("GITOPSLAB_UPSTREAM", REPO.parent / "shared" / "upstream"))
# Where the release keeps the CRD with its full schema (config/crd/minimal drops the field schemas).
KSERVE_CRD = "config/crd/full/serving.kserve.io_inferenceservices.yaml"
ARCHIVES = runpy.run_path(str(REPO / "scripts" / "real-stack" / "archives.py"))


class SchemaSourceError(RuntimeError):
    pass


def kserve_crd(into: Path, upstream: Path = UPSTREAM) -> Path:
    """Write the InferenceService CRD of the pinned KServe archive into `into`; refuse an archive whose
    sha256 is not the pin, naming both values."""
    pin = SOURCE_ARCHIVES["kserve"]
    archive = upstream / pin.file
    try:
        ARCHIVES["verified"](archive, pin.sha256, "SOURCE_ARCHIVES['kserve']")
    except ARCHIVES["ArchiveError"] as exc:  # conftest turns a SchemaSourceError into the tests' `need`
        raise SchemaSourceError(str(exc)) from exc
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            # `git archive --prefix=NAME/`: one top folder
            if member.isfile() and member.name.split("/", 1)[-1] == KSERVE_CRD:
                source = tar.extractfile(member)
                assert source is not None
                into.mkdir(parents=True, exist_ok=True)
                target = into / Path(KSERVE_CRD).name
                target.write_bytes(source.read())
                return target
    raise SchemaSourceError(f"{archive} has no {KSERVE_CRD}")


def build_schema_dir(contracts: Path, into: Path, upstream: Path = UPSTREAM) -> Path:
    """`into` = a symlink to every file of `contracts` (sub-folders mirrored) + KServe's CRD in crds/."""
    for source in sorted(contracts.rglob("*")):
        target = into / source.relative_to(contracts)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    kserve_crd(into / "crds", upstream)
    return into
