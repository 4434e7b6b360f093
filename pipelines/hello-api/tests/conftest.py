import io
import sys
from pathlib import Path

import pytest

# The app and train.py are imported from the repo root, as the image and the CI steps run them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture(scope="module")
def artifact() -> tuple[object, bytes]:
    import joblib
    import train

    model, metrics = train.train(c=1.0, max_iter=200, seed=42)
    assert metrics["accuracy"] > 0.9
    buf = io.BytesIO()
    joblib.dump(model, buf)
    return model, buf.getvalue()
