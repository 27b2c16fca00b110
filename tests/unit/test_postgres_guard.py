"""The PostgreSQL fixture drops a schema only in a database whose name says it is for tests."""

from __future__ import annotations

import pytest
from conftest import require_test_database


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgresql://postgres@127.0.0.1:5432/test_h2",
        "postgresql+asyncpg://u:p@db/storywatch_TEST",
    ],
)
def test_test_databases_are_accepted(url: str) -> None:
    assert "test" in require_test_database(url).lower()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/storywatch",
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "postgresql://postgres@127.0.0.1:5432/",
        "postgresql://test@127.0.0.1:5432/production",  # a user named test is not enough
    ],
)
def test_other_databases_are_refused_with_a_clear_message(url: str) -> None:
    with pytest.raises(pytest.fail.Exception, match="not a test database"):
        require_test_database(url)
