"""The CRD schema folder every test lints with (GITOPSLAB_SCHEMAS): ../shared/contracts as it is, by
symlink (contracts are never copied into the project), plus KServe v0.20.0's InferenceService CRD as
the release ships it, read from the pinned source archive (sha256 checked) at test time. shared/ is
read-only input and carries no KServe CRD; lint reads the CRD manifest itself (gitopslab/lint/schemas.py)."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

from gitopslab.model.versions import SOURCE_ARCHIVES

REPO = Path(__file__).resolve().parents[2]
# Read once at import: the tests' autouse fixture clears GITOPSLAB_* variables for each test.
UPSTREAM = Path(os.environ.get("GITOPSLAB_UPSTREAM", REPO.parent / "shared" / "upstream"))
# Where the release keeps the CRD with its full schema (config/crd/minimal drops the field schemas).
KSERVE_CRD = "config/crd/full/serving.kserve.io_inferenceservices.yaml"


class SchemaSourceError(RuntimeError):
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def kserve_crd(into: Path, upstream: Path = UPSTREAM) -> Path:
    """Write the InferenceService CRD of the pinned KServe archive into `into`; refuse an archive whose
    sha256 is not the pin, naming both values."""
    pin = SOURCE_ARCHIVES["kserve"]
    archive = upstream / pin.file
    if not archive.is_file():
        raise SchemaSourceError(f"{archive} missing (clone with ../shared beside the checkout, or set "
                                "GITOPSLAB_UPSTREAM to the folder of upstream archives)")
    actual = _sha256(archive)
    if actual != pin.sha256:
        raise SchemaSourceError(f"{archive}: sha256 {actual}, but versions.py SOURCE_ARCHIVES['kserve'] pins "
                                f"{pin.sha256}; replace the file with the upstream tag's `git archive`")
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
