"""One module per component of the lab. Each exposes steps (see `gitopslab.orchestrator.Step`):
`done(ctx)` says whether the component is already there and healthy, `apply(ctx)` makes it so."""
