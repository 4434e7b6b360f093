"""`python -m app`: serve on 0.0.0.0:PORT (8080), one process; the readiness probe gates traffic."""

from __future__ import annotations

import logging
import os

import uvicorn

from app.main import create_app


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(), host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8080")),
                access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
