"""Repository.image_ids: the ids a filtered search may return, by product and by folder, on
SQLite and PostgreSQL (LIKE wildcards in folder names are taken literally)."""

from __future__ import annotations

from dataclasses import replace

from tests.infrastructure.database.test_sql_repository import (  # noqa: F401 - fixtures
    database_url,
    rec,
    repo,
    repo_factory,
)


def test_image_ids_by_product_and_folder(repo):  # noqa: F811
    rows = repo.upsert_images(
        [
            replace(rec("/p/Fruit/Apple/granny/1.jpg", "granny"), folder="Fruit/Apple/granny"),
            replace(rec("/p/Fruit/Apple/fuji/1.jpg", "fuji"), folder="Fruit/Apple/fuji"),
            replace(rec("/p/Fruit/Apples/x/1.jpg", "x"), folder="Fruit/Apples/x"),
            replace(rec("/p/Fruit/A_p%/y/1.jpg", "y"), folder="Fruit/A_p%/y"),
            rec("/examples/granny/2.jpg", "granny"),  # no folder: an example
        ]
    )
    granny, fuji, apples, odd, example = (r.id for r in rows)
    assert repo.image_ids() == sorted(r.id for r in rows)
    assert repo.image_ids(products=["granny"]) == [granny, example]
    assert repo.image_ids(under="Fruit/Apple") == [granny, fuji]  # not Fruit/Apples
    assert repo.image_ids(under="Fruit/Apple/fuji") == [fuji]
    assert repo.image_ids(products=["granny", "x"], under="Fruit") == [granny, apples]
    assert repo.image_ids(under="Fruit/A_p%") == [odd]
    assert repo.image_ids(under="Fruit/A_p") == []
    assert repo.image_ids(products=["nothing"]) == []
    assert replace(repo.get_images([granny])[granny]).folder == "Fruit/Apple/granny"
