"""Run localstripe bound to 127.0.0.1 only (its own CLI binds every interface, IPv4 and IPv6)."""
from __future__ import annotations

import argparse
import logging

from aiohttp import web
from localstripe.server import app, store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keep-state", action="store_true", help="reload the previous run's objects")
    args = parser.parse_args()
    if args.keep_state:
        store.try_load_from_disk()
    logging.basicConfig(level=logging.INFO)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=logging.getLogger("aiohttp.access"))


if __name__ == "__main__":
    main()
