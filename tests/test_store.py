"""The tracking store on real SQLite and PostgreSQL: sessions, round-trips, keys, claiming."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from factories import make_case, make_child, make_participant, make_review, postgres_store
from factories import sqlite_store as make_sqlite_store
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workers.errors import ConfigError, ServiceUnavailableError
from workers.store.models import (
    AuditEvent,
    Child,
    Deadline,
    Dispatch,
    Escalation,
    EscalationStep,
    Participant,
    PrintBatch,
    Return,
    Review,
    ServiceState,
)
from workers.store.session import display_url, open_store

LONDON = ZoneInfo("Europe/London")

DUE = dt.datetime(2027, 6, 15, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        sessions = make_sqlite_store(tmp_path)
    else:
        sessions = postgres_store(request.getfixturevalue("pg_database"))
    yield sessions
    bind = sessions.kw["bind"]
    bind.dispose()


def test_every_table_round_trips_with_aware_datetimes(store: sessionmaker[Session]) -> None:
    # 10:00 in London in summer is 09:00 UTC: the store keeps the instant, hands back UTC
    summer = dt.datetime(2027, 7, 1, 10, 0, 0, 123456, tzinfo=LONDON)
    with store.begin() as s:
        review = make_case(s)
        review.scheduled_at = summer
        participant = review.participants[0]
        batch = PrintBatch(batch_date=dt.date(2027, 6, 20), printed_at=summer)
        escalation = Escalation(
            child_id=review.child_id, review_id=review.id, iro_email="iro@council.example.gov.uk",
            category="pep_not_recorded", concern="PEP missing", stage="informal",
            raised_on=dt.date(2027, 6, 1), stage_started_on=dt.date(2027, 6, 1),
        )
        s.add_all([batch, escalation])
        s.flush()
        dispatch = Dispatch(
            key=f"{review.ref}/invitation/{participant.ref}", kind="invitation", channel="post",
            review_id=review.id, participant_id=participant.id, escalation_id=escalation.id,
            recipient="post", reference_code="IRO-ABC123", due_at=summer, claimed_at=summer,
            print_batch_id=batch.id, params={"age_band": "8-11", "n": 2},
        )
        s.add(dispatch)
        s.flush()
        s.add_all([
            Return(dispatch_id=dispatch.id, received_on=dt.date(2027, 6, 25), channel="post"),
            Deadline(key=f"{review.ref}/record", kind="record", review_id=review.id,
                     escalation_id=escalation.id, started_on=dt.date(2027, 7, 1),
                     due_on=dt.date(2027, 7, 22), statutory=False),
            EscalationStep(escalation_id=escalation.id, action="raised", stage="informal",
                           on=dt.date(2027, 6, 1), at=summer),
            AuditEvent(action="dispatch.sent", subject_type="dispatch", subject_id=dispatch.id,
                       at=summer, details={"attempt": 1}),
            ServiceState(name="sending_paused", value="no", updated_at=summer),
        ])
        ids = {"review": review.id, "dispatch": dispatch.id}

    with store() as s:
        counts = {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (Child, Review, Participant, Dispatch, PrintBatch, Return, Deadline,
                      Escalation, EscalationStep, AuditEvent, ServiceState)
        }
        assert counts == {
            "children": 1, "reviews": 1, "participants": 6, "dispatches": 1, "print_batches": 1,
            "returns": 1, "deadlines": 1, "escalations": 1, "escalation_steps": 1,
            "audit_events": 1, "service_state": 1,
        }
        review = s.get_one(Review, ids["review"])
        dispatch = s.get_one(Dispatch, ids["dispatch"])
        for value in (review.scheduled_at, dispatch.due_at, dispatch.claimed_at,
                      s.scalars(select(AuditEvent.at)).one(),
                      s.scalars(select(EscalationStep.at)).one(),
                      s.scalars(select(PrintBatch.printed_at)).one(),
                      s.scalars(select(ServiceState.updated_at)).one()):
            assert value == summer
            assert value is not None and value.utcoffset() == dt.timedelta(0)
        # server defaults come back aware too, and are comparable with now
        assert review.created_at.tzinfo is not None
        assert review.created_at <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        assert dispatch.params == {"age_band": "8-11", "n": 2}
        assert review.child.given_name == "Zoë" and review.child.family_name == "O'Neil"
        assert [p.role for p in review.participants] == [
            "child", "parent", "carer", "social_worker", "guardian", "other"
        ]
        # a range query with an aware bound in another zone finds the row
        found = s.scalars(select(Dispatch.id).where(
            Dispatch.due_at <= dt.datetime(2027, 7, 1, 9, 0, 1, tzinfo=dt.UTC)
        )).all()
        assert found == [dispatch.id]


def test_naive_datetime_is_refused(store: sessionmaker[Session]) -> None:
    with store() as s:
        review = make_review(s)
        review.scheduled_at = dt.datetime(2027, 1, 1, 10, 0)
        with pytest.raises(Exception, match="naive datetime"):
            s.flush()


def test_dispatch_key_is_unique(store: sessionmaker[Session]) -> None:
    with store.begin() as s:
        s.add(Dispatch(key="R-1/invitation/P-1", kind="invitation", channel="email", due_at=DUE))
    with store() as s:
        s.add(Dispatch(key="R-1/invitation/P-1", kind="invitation", channel="email", due_at=DUE))
        with pytest.raises(IntegrityError):
            s.commit()
    with store() as s:
        assert s.scalar(select(func.count()).select_from(Dispatch)) == 1


def test_participant_ref_is_unique_within_a_review(store: sessionmaker[Session]) -> None:
    with store() as s:
        review = make_review(s)
        other = make_review(s)
        make_participant(s, review, ref="P-1")
        make_participant(s, other, ref="P-1")  # same ref on another review is fine
        s.commit()
        with pytest.raises(IntegrityError):
            make_participant(s, review, ref="P-1")


def test_foreign_keys_are_enforced(store: sessionmaker[Session]) -> None:
    with store() as s:
        s.add(Participant(review_id=999_999, ref="P-1", role="parent", name="X", channel="post"))
        with pytest.raises(IntegrityError):
            s.flush()


def test_conditional_claim_succeeds_once(store: sessionmaker[Session]) -> None:
    with store.begin() as s:
        s.add(Dispatch(key="R-2/invitation/P-9", kind="invitation", channel="email",
                       state="queued", due_at=DUE))
    claim = text(
        "UPDATE dispatches SET state='sending', attempts=attempts+1 "
        "WHERE key=:key AND state IN ('pending','queued')"
    )
    rowcounts = []
    for _ in range(3):
        with store.begin() as s:
            rowcounts.append(s.execute(claim, {"key": "R-2/invitation/P-9"}).rowcount)
    assert rowcounts == [1, 0, 0]
    # the same through the ORM's update() construct
    with store.begin() as s:
        d = s.scalars(select(Dispatch)).one()
        stmt = (update(Dispatch).where(Dispatch.id == d.id, Dispatch.state.in_(["sending"]))
                .values(state="sent", sent_at=dt.datetime.now(dt.UTC)))
        assert s.execute(stmt).rowcount == 1
    with store() as s:
        d = s.scalars(select(Dispatch)).one()
        assert (d.state, d.attempts) == ("sent", 1)


def test_only_changed_values_touch_updated_at(store: sessionmaker[Session]) -> None:
    with store.begin() as s:
        child = make_child(s)
        child_id, stamp = child.id, child.updated_at
    with store.begin() as s:
        child = s.get_one(Child, child_id)
        child.team = child.team  # same value: no UPDATE, no churn
    with store() as s:
        assert s.get_one(Child, child_id).updated_at == stamp


def test_sqlite_file_store_gets_its_pragmas(tmp_path: Path) -> None:
    sessions = open_store(f"sqlite:///{tmp_path / 'iro.sqlite3'}")
    with sessions() as s:
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    assert (tmp_path / "iro.sqlite3").exists()


def test_sqlite_in_a_missing_folder_is_refused_and_no_folder_made(tmp_path: Path) -> None:
    # a mistyped path would otherwise start an empty store in a new folder without a word
    with pytest.raises(ConfigError) as info:
        open_store(f"sqlite:///{tmp_path / 'deep' / 'er' / 'iro.sqlite3'}")
    assert f"folder {tmp_path / 'deep' / 'er'} does not exist" in str(info.value)
    assert not (tmp_path / "deep").exists()


def test_the_default_var_folder_is_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///var/iro.sqlite3")
    assert (tmp_path / "var" / "iro.sqlite3").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_postgres_is_one_clear_line_without_password() -> None:
    url = f"postgresql+psycopg://iro:s3cret-pw@127.0.0.1:{_free_port()}/iro"
    with pytest.raises(ServiceUnavailableError) as info:
        open_store(url)
    message = str(info.value)
    assert message.startswith("cannot reach the database at postgresql+psycopg://iro:***@127.0.0.1")
    assert "s3cret-pw" not in message
    assert "pg_ctlcluster" in message and "IRO_DATABASE_URL" in message
    assert "\n" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_bad_url_is_a_config_error_that_does_not_echo_it() -> None:
    with pytest.raises(ConfigError) as info:
        open_store("not a url with pass:word")
    assert "pass:word" not in str(info.value)
    with pytest.raises(ConfigError, match="unsupported database driver"):
        open_store("mysql+nosuchdriver://u:p@localhost/x")


def test_display_url_hides_password_and_defaults_to_psycopg() -> None:
    assert display_url("postgresql://a:b@h/db") == "postgresql+psycopg://a:***@h/db"


def test_audit_record_keeps_ids_and_codes_and_drops_personal_keys(
    store: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    from workers.store import audit

    with store.begin() as s:
        review = make_review(s)
        audit.record(
            s, "dispatch.sent", "dispatch", 42, actor="iro.one@council.example.gov.uk",
            review_id=review.id, reference_code="IRO-7Q2K", on=dt.date(2026, 12, 1),
            child_name="Zoë O'Neil", address="1 High St", free_text="Zoë said…",
            participant={"id": 7, "name": "Ann"}, channels=["email", "post"],
            note="x" * 10, summary="y" * 500,
        )
    with store() as s:
        event = s.scalars(select(AuditEvent)).one()
        assert (event.action, event.subject_type) == ("dispatch.sent", "dispatch")
        assert event.subject_id == 42
        assert event.actor == "iro.one@council.example.gov.uk"
        assert event.at.tzinfo is not None
        assert event.details == {
            "review_id": review.id, "reference_code": "IRO-7Q2K", "on": "2026-12-01",
            "participant": {"id": 7}, "channels": ["email", "post"],
        }
    logged = caplog.text
    assert "child_name" in logged and "Zoë" not in logged and "High St" not in logged


def test_audit_record_does_not_commit(store: sessionmaker[Session]) -> None:
    from workers.store import audit

    with store() as s:
        audit.record(s, "import.reviews", "import", None, created=3)
        s.rollback()
    with store() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_database_error_never_quotes_the_values_being_written(
    store: sessionmaker[Session],
) -> None:
    # Workers, the scheduler and --debug log tracebacks; an IntegrityError's text would carry
    # every parameter of the failed statement: a child's name, a participant's address.
    with store.begin() as s:
        make_child(s, ref="C-77777")
    with store() as s, pytest.raises(IntegrityError) as info:
        make_child(s, ref="C-77777", given_name="Zoë-Secret", family_name="O'Neil-Secret")
    message = str(info.value)
    assert "Secret" not in message
    assert "parameters hidden" in message


@pytest.mark.postgres
def test_postgres_errors_do_not_quote_the_failing_row(pg_database: str) -> None:
    # PostgreSQL's DETAIL line for a NOT NULL or CHECK violation is the whole row
    sessions = postgres_store(pg_database)
    with sessions() as s, pytest.raises(IntegrityError) as info:
        make_child(s, given_name=None, family_name="O'Neil-Secret", placement="12 Secret Road")
    message = str(info.value)
    assert "not-null constraint" in message
    assert "Secret" not in message and "DETAIL" not in message
