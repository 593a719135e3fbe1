"""The "sending paused" flag: set once by whoever meets the refused password, seen by all."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from workers.config.settings import load_settings
from workers.mail import pause
from workers.mail.pause import RedisPauseFlag, StorePauseFlag, make_pause_flag
from workers.store.models import Base

REASON = "dispatch R-1/invitation/P-1 via SMTP as iro@council.example.gov.uk: login refused"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_database")
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    yield sessionmaker(engine)
    Base.metadata.drop_all(engine)
    engine.dispose()


def test_store_flag_is_set_once_and_seen_by_another_session(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as worker_a:
        assert not pause.is_paused(worker_a)
        assert pause.pause(worker_a, REASON) is True
        worker_a.commit()
    with sessions() as worker_b:
        assert pause.is_paused(worker_b)
        assert pause.pause(worker_b, "a second failure") is False  # no second alert
        worker_b.commit()
        state = pause.state(worker_b)
        assert state is not None and state.reason == REASON
    with sessions() as cli:
        assert StorePauseFlag().resume(cli) is True
        cli.commit()
    with sessions() as worker_a:
        assert not pause.is_paused(worker_a)
        assert pause.resume(worker_a) is False


@pytest.mark.redis
def test_redis_flag_is_set_by_exactly_one_of_many_workers(redis_url: str) -> None:
    flags = [RedisPauseFlag(redis.Redis.from_url(redis_url)) for _ in range(8)]
    firsts: list[bool] = []
    barrier = threading.Barrier(len(flags))

    def fail_auth(flag: RedisPauseFlag) -> None:
        barrier.wait()
        firsts.append(flag.pause(None, REASON))

    threads = [threading.Thread(target=fail_auth, args=(f,)) for f in flags]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert firsts.count(True) == 1
    assert all(f.is_paused() for f in flags)
    state = flags[3].state()
    assert state is not None and state.reason == REASON
    assert flags[5].resume() is True
    assert not any(f.is_paused() for f in flags)


def test_settings_choose_where_the_flag_lives(tmp_path: Path) -> None:
    assert isinstance(make_pause_flag(load_settings(tmp_path, environ={})), StorePauseFlag)
    env = {"IRO_REDIS_URL": "redis://127.0.0.1:6379/15"}
    assert isinstance(make_pause_flag(load_settings(tmp_path, environ=env)), RedisPauseFlag)
