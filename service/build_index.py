"""python -m service.build_index — seed the knowledge store and build the index if missing or stale."""
import logging
import time

from knowledge.search import load_searcher
from service.config import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # its CPU-feature probing is noise
    settings = Settings.from_env()
    started = time.perf_counter()
    searcher = load_searcher(settings.db_path, settings.index_dir, encoder=settings.encoder)
    print(f"policy index ready in {settings.index_dir} ({time.perf_counter() - started:.1f}s, {searcher.describe()})")


if __name__ == "__main__":
    main()
