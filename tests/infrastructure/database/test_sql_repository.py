"""Repository contract against SqlRepository on a real SQLite file and a real PostgreSQL server.

The PostgreSQL run needs TEST_POSTGRES_URL (`make test` starts a throw-away server with
scripts/pg_test_server.sh); each test gets a fresh schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from app.domain.errors import BackendUnavailable, ConfigError
from app.domain.gallery import Removals
from app.domain.models import ImageRecord
from app.infrastructure.database.sql_repository import SqlRepository

RepoFactory = Callable[[], SqlRepository]


@pytest.fixture(params=["sqlite-file", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'nested' / 'dir' / 'app.db'}"


@pytest.fixture
def repo_factory(database_url) -> Iterator[RepoFactory]:
    url = database_url
    opened: list[SqlRepository] = []

    def make() -> SqlRepository:
        opened.append(SqlRepository(url))
        return opened[-1]

    yield make
    for repo in opened:
        repo.close()


@pytest.fixture
def repo(repo_factory) -> SqlRepository:
    return repo_factory()


def rec(path: str, product: str = "p1", digest: str = "h", size: int = 10, model=None):
    return ImageRecord(path, product, digest, size, embedding_model=model)


def test_upsert_inserts_and_returns_ids_in_input_order(repo):
    saved = repo.upsert_images([rec("b.jpg"), rec("a.jpg"), rec("c.jpg", "p2")])
    assert [r.path for r in saved] == ["b.jpg", "a.jpg", "c.jpg"]
    assert all(r.id is not None for r in saved)
    assert len({r.id for r in saved}) == 3
    assert repo.count_images() == 3
    assert repo.get_images([saved[2].id]) == {saved[2].id: saved[2]}


def test_upsert_updates_by_path_keeping_id(repo):
    (first,) = repo.upsert_images([rec("a.jpg", digest="old")])
    new = rec("a.jpg", "p9", "new", 99, model="clip@1")
    (second,) = repo.upsert_images([new, rec("b.jpg")][:1])
    assert second.id == first.id
    assert repo.get_images([first.id])[first.id] == ImageRecord(
        "a.jpg", "p9", "new", 99, "clip@1", first.id
    )
    assert repo.count_images() == 1


def test_upsert_mixed_new_and_existing_and_repeated_path(repo):
    (a,) = repo.upsert_images([rec("a.jpg")])
    saved = repo.upsert_images([rec("b.jpg"), rec("a.jpg", digest="x"), rec("b.jpg", digest="y")])
    assert saved[1].id == a.id
    assert saved[0].id == saved[2].id
    assert repo.count_images() == 2
    stored = {r.path: r for r in repo.list_images()}
    assert (stored["a.jpg"].content_hash, stored["b.jpg"].content_hash) == ("x", "y")


def test_upsert_nothing(repo):
    assert repo.upsert_images([]) == []


def test_get_images_skips_unknown_and_accepts_iterables(repo):
    saved = repo.upsert_images([rec(f"{i}.jpg") for i in range(3)])
    ids = (r.id for r in saved)
    found = repo.get_images(ids)
    assert sorted(found) == sorted(r.id for r in saved)
    assert repo.get_images([123456]) == {}
    assert repo.get_images([]) == {}


def test_delete_images_ignores_unknown(repo):
    saved = repo.upsert_images([rec(f"{i}.jpg") for i in range(4)])
    repo.delete_images([saved[0].id, saved[2].id, 999_999])
    assert [r.path for r in repo.list_images()] == ["1.jpg", "3.jpg"]
    repo.delete_images([])
    assert repo.count_images() == 2


def test_unstamp_images_clears_only_their_stamp(repo):
    saved = repo.upsert_images([rec(f"{i}.jpg", model="m") for i in range(3)])
    repo.unstamp_images([saved[0].id, saved[2].id, 999_999])
    repo.unstamp_images([])
    assert [r.embedding_model for r in repo.list_images()] == [None, "m", None]
    assert repo.list_images()[0] == replace(saved[0], embedding_model=None)


def test_list_images_in_id_order(repo):
    saved = repo.upsert_images([rec("z.jpg"), rec("a.jpg")])
    assert repo.list_images() == saved


def test_meta_set_get_overwrite(repo):
    assert repo.get_meta("last_rebuild") is None
    repo.set_meta("last_rebuild", "2026-11-24T10:00:00+00:00")
    repo.set_meta("last_rebuild", "2026-11-25T10:00:00+00:00")
    assert repo.get_meta("last_rebuild") == "2026-11-25T10:00:00+00:00"


def test_product_counts(repo):
    assert repo.product_counts() == {}
    repo.upsert_images([rec("1", "shoe"), rec("2", "bag"), rec("3", "shoe")])
    assert repo.product_counts() == {"bag": 1, "shoe": 2}


def test_thousands_of_rows_in_one_call(repo):
    records = [rec(f"img/{i:05d}.jpg", f"p{i % 37}", f"h{i}", i) for i in range(3000)]
    saved = repo.upsert_images(records)
    assert [r.path for r in saved] == [r.path for r in records]
    assert repo.count_images() == 3000
    ids = [r.id for r in saved]
    assert len(repo.get_images(ids)) == 3000
    changed = [rec(r.path, r.product_id, "changed", r.size_bytes) for r in records[::2]]
    again = repo.upsert_images([*changed, rec("new.jpg")])
    assert [r.id for r in again[:-1]] == ids[::2]
    assert sum(p.content_hash == "changed" for p in repo.get_images(ids).values()) == 1500
    repo.delete_images(ids[:2500])
    assert repo.count_images() == 501
    assert sum(repo.product_counts().values()) == 501


def test_persists_across_instances(repo_factory):
    first = repo_factory()
    (saved,) = first.upsert_images([rec("a.jpg")])
    first.set_meta("k", "v")
    second = repo_factory()
    assert second.get_images([saved.id]) == {saved.id: saved}
    assert second.get_meta("k") == "v"


def test_awkward_paths_are_bound_not_interpolated(repo):
    paths = ['it\'s "quoted".jpg', "Ürün/çay ☕.png", "x'); DROP TABLE images; --", "a%b_c\\d"]
    saved = repo.upsert_images([rec(p, product=p) for p in paths])
    assert [r.path for r in repo.list_images()] == paths
    assert repo.upsert_images([rec(paths[2], product=paths[2])])[0].id == saved[2].id
    assert repo.product_counts() == dict.fromkeys(sorted(paths), 1)


def test_failed_upsert_rolls_back_everything(repo):
    (a,) = repo.upsert_images([rec("a.jpg", digest="old")])
    broken = ImageRecord("bad.jpg", "p", None, 1)  # type: ignore[arg-type]  # NOT NULL column
    with pytest.raises(IntegrityError):
        repo.upsert_images([rec("a.jpg", digest="new"), broken])
    assert repo.list_images() == [a]


def test_sqlite_uses_wal_journal(repo):
    if repo._engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with repo._engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() > 0


def test_in_memory_sqlite_shares_one_database():
    repo = SqlRepository("sqlite://")
    repo.upsert_images([rec("a.jpg")])
    assert repo.count_images() == 1
    repo.close()


def test_unreachable_database_is_backend_unavailable(tmp_path):
    with pytest.raises(BackendUnavailable, match="unavailable"):
        SqlRepository(f"sqlite:///{tmp_path}")  # a directory, not a database file


def test_restore_keeps_ids_and_later_rows_get_new_ones(repo):
    restored = [ImageRecord(f"{i}.jpg", "p", "h", 1, "m@1", id=i) for i in (7, 3, 1_000_000)]
    repo.restore_images(restored)
    assert repo.list_images() == sorted(restored, key=lambda r: r.id)
    (new,) = repo.upsert_images([rec("new.jpg")])
    assert new.id > 1_000_000
    with pytest.raises(IntegrityError):
        repo.restore_images([ImageRecord("other.jpg", "p", "h", 1, id=8), restored[0]])
    assert repo.count_images() == 4
    with pytest.raises(ValueError, match="ids"):
        repo.restore_images([rec("no-id.jpg")])
    repo.restore_images([])


def test_all_meta(repo):
    assert repo.all_meta() == {}
    repo.set_meta("b", "2")
    repo.set_meta("a", "1")
    repo.set_meta("b", "3")
    assert repo.all_meta() == {"a": "1", "b": "3"}


def test_postgresql_pool_settings(postgres_url):
    repo = SqlRepository(postgres_url, pool_size=3, max_overflow=1)
    try:
        assert repo._engine.dialect.name == "postgresql"
        assert (repo._engine.pool.size(), repo._engine.pool._max_overflow) == (3, 1)
    finally:
        repo.close()


def test_plain_postgresql_url_uses_psycopg(postgres_url):
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    repo = SqlRepository(plain)
    try:
        assert repo._engine.dialect.driver == "psycopg"
        assert repo.count_images() == 0
    finally:
        repo.close()


def test_bad_urls_are_clear_errors():
    with pytest.raises(ConfigError, match="invalid database URL"):
        SqlRepository("not a url")
    with pytest.raises(BackendUnavailable, match="no driver"):
        SqlRepository("mysql+nosuchdriver://u@h/db")


def test_source_round_trips_and_defaults_to_catalogue(repo):
    saved = repo.upsert_images([rec("a.jpg"), replace(rec("e.jpg"), source="example")])
    stored = repo.get_images(r.id for r in saved)
    assert [stored[r.id].source for r in saved] == ["catalogue", "example"]
    (moved,) = repo.upsert_images([replace(saved[0], source="example")])
    assert repo.get_images([moved.id])[moved.id].source == "example"


def test_list_images_of_one_product(repo):
    repo.upsert_images([rec("1", "shoe"), rec("2", "bag"), rec("3", "shoe")])
    assert [r.path for r in repo.list_images("shoe")] == ["1", "3"]
    assert repo.list_images("nothing") == []


def test_source_counts(repo):
    assert repo.source_counts() == {}
    example = replace(rec("x", "shoe"), source="example")
    repo.upsert_images([rec("1", "shoe"), rec("2", "bag"), rec("3", "shoe"), example])
    assert repo.source_counts() == {"bag": {"catalogue": 1}, "shoe": {"catalogue": 2, "example": 1}}


def test_removals_are_remembered_and_cleared_per_class(repo_factory):
    repo = repo_factory()
    assert repo.removals() == Removals()
    repo.mark_class_removed("hat")
    repo.mark_class_removed("hat")  # idempotent
    repo.mark_images_removed([rec("s/1.jpg", "shoe"), rec("b/2.jpg", "bag")])
    repo.mark_images_removed([rec("s/1.jpg", "shoe")])
    again = repo_factory()  # persisted
    assert again.removals() == Removals(frozenset({"hat"}), frozenset({"s/1.jpg", "b/2.jpg"}))
    assert again.removals().excludes("any.jpg", "hat") and again.removals().excludes("s/1.jpg", "x")
    assert again.removals("shoe") == Removals(frozenset(), frozenset({"s/1.jpg"}))
    assert again.removals("hat") == Removals(frozenset({"hat"}), frozenset())
    again.clear_removals("shoe")
    again.clear_removals("hat")
    assert again.removals() == Removals(frozenset(), frozenset({"b/2.jpg"}))


def test_database_from_the_first_release_is_upgraded_in_place(tmp_path):
    """An app.db made before the `source` column keeps its rows, which become catalogue rows."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(FIRST_RELEASE_IMAGES))
        conn.execute(
            text(
                "INSERT INTO images (path, product_id, content_hash, size_bytes, embedding_model,"
                " created_at, updated_at) VALUES ('a.jpg', 'p', 'h', 1, 'm', '2026-01-01',"
                " '2026-01-01')"
            )
        )
    engine.dispose()
    repo = SqlRepository(url)
    (row,) = repo.list_images()
    assert (row.path, row.source, row.embedding_model) == ("a.jpg", "catalogue", "m")
    repo.upsert_images([replace(rec("e.jpg"), source="example")])
    repo.close()
    again = SqlRepository(url)  # nothing left to upgrade
    assert again.source_counts() == {"p": {"catalogue": 1}, "p1": {"example": 1}}
    again.close()


FIRST_RELEASE_IMAGES = """
CREATE TABLE images (
    id INTEGER NOT NULL PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    product_id TEXT NOT NULL,
    content_hash VARCHAR(128) NOT NULL,
    size_bytes BIGINT NOT NULL,
    embedding_model TEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
)
"""


def test_a_deleted_id_is_never_given_to_a_new_image(repo_factory):
    """A verdict, a `more_like` id or a retried removal must never name another photo."""
    repo = repo_factory()
    first = repo.upsert_images([rec("a.jpg"), rec("b.jpg")])
    last = max(r.id for r in first)
    repo.delete_images([last])
    (again,) = repo.upsert_images([rec("c.jpg")])
    assert again.id > last
    repo.delete_images([again.id])
    (reopened,) = repo_factory().upsert_images([rec("d.jpg")])  # another process, same database
    assert reopened.id > again.id
