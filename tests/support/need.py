"""Re-export of the repo's `need` (skip outside CI, fail in CI) for modules that import it by name."""

from tests.conftest import need  # noqa: F401
