"""The mailbox's back-off: what the mail server asked of one worker, every worker keeps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import redis

from workers.config.settings import load_settings
from workers.mail.backoff import Backoff, InProcessBackoff, RedisBackoff, make_backoff

MAILBOX = "iro.service@council.example.gov.uk"
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def later(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def pair(request: pytest.FixtureRequest) -> tuple[Backoff, Backoff]:
    """Two workers' views: the threads of one process, or two processes sharing Redis."""
    if request.param == "memory":
        shared = InProcessBackoff()
        return shared, shared
    url = request.getfixturevalue("redis_url")
    return RedisBackoff(redis.Redis.from_url(url)), RedisBackoff(redis.Redis.from_url(url))


def test_one_workers_back_off_holds_every_worker(pair: tuple[Backoff, Backoff]) -> None:
    told, other = pair
    assert other.remaining(MAILBOX, NOW) == 0.0
    told.hold(MAILBOX.upper(), 30, NOW)  # keyed case-insensitively
    assert other.remaining(MAILBOX, later(10)) == pytest.approx(20)
    assert other.remaining("other.team@council.example.gov.uk", later(10)) == 0.0  # per mailbox
    other.hold(MAILBOX, 5, later(10))  # a shorter wait asked later does not cut it short
    assert told.remaining(MAILBOX, later(20)) == pytest.approx(10)
    other.hold(MAILBOX, 60, later(20))  # a longer one extends it
    assert told.remaining(MAILBOX, later(70)) == pytest.approx(10)
    assert told.remaining(MAILBOX, later(81)) == 0.0


def test_settings_choose_where_the_back_off_is_kept(tmp_path: Path) -> None:
    assert isinstance(make_backoff(load_settings(tmp_path, environ={})), InProcessBackoff)
    shared = make_backoff(load_settings(tmp_path, environ={
        "IRO_TRANSPORT": "ews", "IRO_REDIS_URL": "redis://127.0.0.1:6379/15"}))
    assert isinstance(shared, RedisBackoff)
