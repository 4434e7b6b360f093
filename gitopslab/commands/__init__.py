"""One module per verb: HELP/DESCRIPTION, add_arguments(parser), run(args) -> exit code."""
