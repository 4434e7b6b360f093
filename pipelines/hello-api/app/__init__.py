"""hello-api: serves the iris classifier named by MODEL_OBJECT, pinned by MODEL_SHA."""
