import os
import stat

from knowledge.store import Store


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_store_files_are_readable_by_the_owner_only(tmp_path):
    path = tmp_path / "knowledge.db"
    store = Store(path)
    store.add_feedback("negative", question="q", answer="a", clause_ids=[], sender="", channel="")
    assert mode(path) == 0o600
    assert all(mode(p) == 0o600 for p in tmp_path.glob("knowledge.db-*"))


def test_an_existing_world_readable_store_is_tightened(tmp_path):
    path = tmp_path / "knowledge.db"
    Store(path)
    path.chmod(0o644)
    Store(path)
    assert mode(path) == 0o600
