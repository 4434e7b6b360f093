"""gitopslab: a GitOps + MLOps lab on one laptop, with one command."""

__version__ = "0.1.0"
