"""python -m service [--port 8000] [--host 127.0.0.1]"""
import argparse
import logging

from aiohttp import web

from service.app import create_app
from service.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description="Policy service: knowledge API, web chat, console, admin")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # its CPU-feature probing is noise
    web.run_app(create_app(Settings.from_env()), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
