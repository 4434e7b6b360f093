"""Contract fakes: small real HTTP servers that answer like Gitea 1.26 and Woodpecker 3.17 and fail the
test on any method, path, query parameter or JSON body the upstream swagger does not define."""
