import sys
from pathlib import Path

# The app and train.py are imported from the repo root, as the image and the CI steps run them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
