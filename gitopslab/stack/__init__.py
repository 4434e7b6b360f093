"""One module per component of the lab. Each exposes steps (see `gitopslab.conductor.runner.Step`):
`done(ctx)` says whether the component is already there and healthy, `apply(ctx)` makes it so."""
