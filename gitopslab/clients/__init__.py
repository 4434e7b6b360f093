"""Small typed HTTP clients of the lab's services (httpx, explicit timeouts, injectable transport).

    http.py              make_client(), RetryPolicy, split-horizon name mapping, ServiceAPI base
    gitea.py             GiteaClient / gitea_client(): the Gitea 1.26 API operations the lab seeds
    woodpecker.py        WoodpeckerClient / woodpecker_client(): the Woodpecker 3.17 API the lab wires
    woodpecker_login.py  headless_token(): Woodpecker sign-in through Gitea OAuth2, no browser

Clients know HTTP, not the lab: URLs, credentials and name mappings are passed in by stack modules.
"""
