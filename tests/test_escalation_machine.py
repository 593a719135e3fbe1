"""The pure escalation state machine, with the real working calendar (England bank holidays)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from workers.config.offsets import Offset, parse_offset
from workers.core.workcalendar import WorkingCalendar
from workers.errors import BadInputError, RefusedError
from workers.escalation import machine as m
from workers.escalation.policy import Policy

D = dt.date
IRO = "iro.one@council.example"
MANAGER = "iro.manager@council.example"
MON = D(2026, 3, 2)


@dataclass(frozen=True)
class Stage:
    key: str
    title: str
    recipients: tuple[str, ...]
    response_due: Offset | None
    template: str
    auto_advance_on_timeout: bool = False


def five() -> Offset:
    return parse_offset("5 working days after stage_start")


def policy(auto: frozenset[str] = frozenset(), closures: tuple[D, ...] = ()) -> Policy:
    keys = ["informal", "deputy_manager", "group_manager", "head_of_service", "assistant_director"]
    stages = [
        Stage(
            k,
            k.replace("_", " "),
            ("team_manager",) if k == "informal" else (k,),
            five(),
            f"escalation_{k}",
            k in auto,
        )
        for k in keys
    ]
    stages.append(Stage("cafcass", "CAFCASS", ("cafcass",), None, "escalation_cafcass"))
    return Policy(
        stages=stages,
        total_ceiling=parse_offset("20 working days after raised"),
        categories=frozenset({"pep_not_recorded", "other"}),
        calendar=WorkingCalendar(closures=closures),
    )


def raised(p: Policy, on: D = MON, stage: str | None = None) -> m.State:
    return m.raise_escalation(
        p, iro_email=IRO, category="pep_not_recorded", concern="PEP missing", on=on, stage=stage
    ).state


def test_raise_starts_at_informal_with_five_working_days_to_respond() -> None:
    p = policy()
    t = m.raise_escalation(
        p,
        iro_email=IRO,
        category="other",
        concern="drift",
        on=D(2026, 3, 27),  # a Friday
    )
    assert t.state.stage == "informal"
    # 30, 31 Mar, 1, 2 Apr; Good Friday 3 Apr and Easter Monday 6 Apr skipped; then 7 Apr
    assert t.state.response_due_on == D(2026, 4, 7)
    assert [s.action for s in t.steps] == ["raised"]
    assert t.notices == (m.Notice("stage", "informal"),)
    assert t.steps[0].text == ""  # the concern lives on the escalation, not in the step


def test_local_closures_extend_the_response_date() -> None:
    p = policy(closures=(D(2026, 12, 29), D(2026, 12, 30), D(2026, 12, 31)))
    s = raised(p, on=D(2026, 12, 21))
    # 22, 23, 24 Dec; 25, 28 bank holidays; 29-31 closed; 1 Jan bank holiday; 4, 5 Jan
    assert s.response_due_on == D(2027, 1, 5)


def test_raise_refuses_unknown_category_stage_and_empty_concern() -> None:
    p = policy()
    with pytest.raises(BadInputError, match="unknown escalation category 'nope'.*other"):
        m.raise_escalation(p, iro_email=IRO, category="nope", concern="x", on=D(2026, 3, 2))
    with pytest.raises(BadInputError, match="unknown escalation stage 'boss'"):
        m.raise_escalation(
            p, iro_email=IRO, category="other", concern="x", on=D(2026, 3, 2), stage="boss"
        )
    with pytest.raises(BadInputError, match="--concern is empty"):
        m.raise_escalation(p, iro_email=IRO, category="other", concern="  ", on=D(2026, 3, 2))


def test_error_messages_never_carry_the_concern_text() -> None:
    p = policy()
    with pytest.raises(BadInputError) as info:
        m.raise_escalation(
            p, iro_email=IRO, category="nope", concern="Child lives at 3 Elm Rd", on=D(2026, 3, 2)
        )
    assert "Elm" not in str(info.value)


def test_raise_directly_at_a_higher_stage() -> None:
    s = raised(policy(), stage="group_manager")
    assert s.stage == "group_manager"
    assert s.steps[0].stage == "group_manager"


def test_advance_moves_up_one_and_bypass_skips_to_a_named_stage() -> None:
    p = policy()
    s = raised(p)
    t = m.advance(p, s, on=D(2026, 3, 5))
    assert (t.state.stage, t.steps[0].action) == ("deputy_manager", "advanced")
    assert t.state.stage_started_on == D(2026, 3, 5)
    assert t.state.response_due_on == D(2026, 3, 12)
    assert t.notices == (m.Notice("stage", "deputy_manager"),)
    t2 = m.advance(p, t.state, on=D(2026, 3, 6), to="head_of_service")
    assert (t2.state.stage, t2.steps[0].action) == ("head_of_service", "bypassed")
    assert t2.state.raised_on == D(2026, 3, 2)
    assert [st.action for st in t2.state.steps] == ["raised", "advanced", "bypassed"]


def test_stages_only_go_up() -> None:
    p = policy()
    s = m.advance(p, raised(p), on=D(2026, 3, 5), to="group_manager").state
    with pytest.raises(RefusedError, match="stages only go up"):
        m.advance(p, s, on=D(2026, 3, 6), to="deputy_manager")
    with pytest.raises(RefusedError, match="stages only go up"):
        m.advance(p, s, on=D(2026, 3, 6), to="group_manager")


def test_advancing_past_the_last_stage_is_refused() -> None:
    p = policy()
    s = m.advance(p, raised(p), on=D(2026, 3, 5), to="cafcass").state
    assert s.cafcass_referred_on == D(2026, 3, 5)
    assert s.response_due_on is None
    with pytest.raises(RefusedError, match="last stage"):
        m.advance(p, s, on=D(2026, 3, 6))


def test_refer_to_cafcass_alongside_keeps_the_internal_stage() -> None:
    p = policy()
    s = m.advance(p, raised(p), on=D(2026, 3, 3)).state
    t = m.refer_cafcass(p, s, on=D(2026, 3, 4))
    assert t.state.stage == "deputy_manager"
    assert t.state.cafcass_referred_on == D(2026, 3, 4)
    assert t.notices == (m.Notice("stage", "cafcass"),)
    with pytest.raises(RefusedError, match="already referred to CAFCASS on 2026-03-04"):
        m.refer_cafcass(p, t.state, on=D(2026, 3, 5))
    # later reaching the cafcass stage on the ladder sends nothing new
    t2 = m.advance(p, t.state, on=D(2026, 3, 5), to="cafcass")
    assert t2.notices == ()
    assert t2.state.cafcass_referred_on == D(2026, 3, 4)


def test_response_recorded_and_stops_the_overdue_timer() -> None:
    p = policy()
    s = raised(p)  # due 9 March
    t = m.respond(p, s, text="Will fix", by="tm@council.example", on=D(2026, 3, 4))
    assert t.steps[0] == m.Step(
        "responded", "informal", D(2026, 3, 4), "tm@council.example", "Will fix"
    )
    assert m.tick(p, t.state, today=D(2026, 3, 10)).steps == ()


def test_overdue_tells_the_iro_once_per_stage() -> None:
    p = policy()
    s = raised(p)  # due Mon 9 March
    assert m.tick(p, s, today=D(2026, 3, 9)).steps == ()
    t = m.tick(p, s, today=D(2026, 3, 10))
    assert [x.action for x in t.steps] == ["overdue"]
    assert t.notices == (m.Notice("overdue", "informal"),)
    assert m.tick(p, t.state, today=D(2026, 3, 11)).steps == ()
    # a new stage has its own timer
    s2 = m.advance(p, t.state, on=D(2026, 3, 11)).state
    t2 = m.tick(p, s2, today=D(2026, 3, 19))
    assert t2.notices == (m.Notice("overdue", "deputy_manager"),)


def test_auto_advance_on_timeout_where_the_stage_says_so() -> None:
    p = policy(auto=frozenset({"informal"}))
    s = raised(p)
    t = m.tick(p, s, today=D(2026, 3, 10))
    assert t.state.stage == "deputy_manager"
    assert t.steps[0] == m.Step("timed_out", "deputy_manager", D(2026, 3, 10), "system")
    assert t.notices == (m.Notice("stage", "deputy_manager"),)
    assert t.state.response_due_on == D(2026, 3, 17)


def test_ceiling_is_flagged_once_after_twenty_working_days() -> None:
    p = policy()
    s = m.respond(p, raised(p), text="ok", by="tm@x", on=D(2026, 3, 3)).state
    # 20 working days after Mon 2 March 2026 is Mon 30 March
    assert m.tick(p, s, today=D(2026, 3, 30)).steps == ()
    t = m.tick(p, s, today=D(2026, 3, 31))
    assert [x.action for x in t.steps] == ["ceiling_passed"]
    assert t.notices == (m.Notice("ceiling", "informal"),)
    assert m.tick(p, t.state, today=D(2026, 4, 1)).steps == ()
    assert m.past_ceiling(p, t.state, D(2026, 3, 31))
    assert m.total_days(p, t.state, D(2026, 3, 31)) == 21


def test_only_the_raising_iro_or_the_iro_manager_may_resolve() -> None:
    p = policy()
    s = raised(p)
    with pytest.raises(RefusedError, match="only the IRO who raised .*tm@council.example may not"):
        m.resolve(
            p, s, by="tm@council.example", outcome="done", on=D(2026, 3, 4), iro_manager=MANAGER
        )
    with pytest.raises(RefusedError):
        m.resolve(p, s, by="", outcome="done", on=D(2026, 3, 4), iro_manager=MANAGER)
    t = m.resolve(
        p,
        s,
        by="IRO.One@Council.example",
        outcome="PEP done",
        on=D(2026, 3, 4),
        iro_manager=MANAGER,
    )
    assert t.state.status == "resolved"
    assert (t.state.resolved_stage, t.state.resolved_on) == ("informal", D(2026, 3, 4))
    assert t.state.response_due_on is None
    t2 = m.resolve(p, s, by=MANAGER, outcome="ok", on=D(2026, 3, 4), iro_manager=MANAGER)
    assert t2.state.resolved_by == MANAGER


def test_a_resolved_escalation_is_closed_to_every_action() -> None:
    p = policy()
    s = m.resolve(p, raised(p), by=IRO, outcome="ok", on=D(2026, 3, 4), iro_manager=MANAGER).state
    for action in (
        lambda: m.advance(p, s, on=D(2026, 3, 5)),
        lambda: m.respond(p, s, text="x", by="a", on=D(2026, 3, 5)),
        lambda: m.refer_cafcass(p, s, on=D(2026, 3, 5)),
        lambda: m.resolve(p, s, by=IRO, outcome="x", on=D(2026, 3, 5), iro_manager=MANAGER),
    ):
        with pytest.raises(RefusedError, match="resolved on 2026-03-04"):
            action()
    assert m.tick(p, s, today=D(2027, 1, 1)).steps == ()
    assert m.total_days(p, s, D(2027, 1, 1)) == 2


def test_dates_before_the_stage_began_are_refused() -> None:
    p = policy()
    s = raised(p)
    with pytest.raises(BadInputError, match="before the current stage"):
        m.advance(p, s, on=D(2026, 2, 27))


def test_a_year_of_escalations_with_fixed_dates() -> None:
    """36 a year (Bromley 2013-14), one every six working days through 2026, in three patterns:
    answered by the deputy manager and closed by the IRO; unanswered, timed out to the group
    manager and closed by the IRO manager; bypassed to the assistant director with a CAFCASS
    referral, overdue, past the 20-day ceiling and closed by the IRO."""
    p = policy(auto=frozenset({"deputy_manager"}))
    cal = WorkingCalendar()
    day, serial, n_raised = D(2026, 1, 5), 0, 0
    live: dict[int, m.State] = {}
    done: list[m.State] = []
    refusals = 0
    while day <= D(2026, 12, 31) or live:
        if not cal.is_working_day(day):
            day += dt.timedelta(days=1)
            continue
        if day.year == 2026 and serial % 6 == 0 and n_raised < 36:
            live[n_raised] = raised(p, on=day)
            n_raised += 1
        serial += 1
        for n, s in list(live.items()):
            s = m.tick(p, s, today=day).state
            age = p.working_days(s.stage_started_on, day)
            if s.stage == "informal" and age == 2:
                s = m.advance(p, s, on=day).state
            elif s.stage == "deputy_manager" and n % 3 == 0 and age == 3:
                s = m.respond(p, s, text="answer", by="dm@council.example", on=day).state
            elif s.stage == "deputy_manager" and s.responded_at_stage() and age == 4:
                with pytest.raises(RefusedError):
                    m.resolve(
                        p, s, by="dm@council.example", outcome="x", on=day, iro_manager=MANAGER
                    )
                refusals += 1
                s = m.resolve(p, s, by=IRO, outcome="ok", on=day, iro_manager=MANAGER).state
            elif s.stage == "group_manager" and n % 3 == 2 and age == 1:
                s = m.advance(p, s, on=day, to="assistant_director").state
                s = m.refer_cafcass(p, s, on=day).state
            elif s.stage == "group_manager" and age == 7:
                s = m.resolve(p, s, by=MANAGER, outcome="ok", on=day, iro_manager=MANAGER).state
            elif s.stage == "assistant_director" and age == 15:
                s = m.resolve(p, s, by=IRO, outcome="ok", on=day, iro_manager=MANAGER).state
            if s.is_open:
                live[n] = s
            else:
                del live[n]
                done.append(s)
        day += dt.timedelta(days=1)
    counts: dict[str, int] = {}
    for s in done:
        for st in s.steps:
            counts[st.action] = counts.get(st.action, 0) + 1
    assert n_raised == len(done) == 36 and refusals == 12
    assert counts == {
        "raised": 36,
        "advanced": 36,
        "responded": 12,
        "resolved": 36,
        "timed_out": 24,
        "bypassed": 12,
        "referred_cafcass": 12,
        "overdue": 24,  # unanswered group managers and assistant directors, told once each
        "ceiling_passed": 12,
    }
    assert {
        k: sum(1 for s in done if s.resolved_stage == k)
        for k in ("deputy_manager", "group_manager", "assistant_director")
    } == {"deputy_manager": 12, "group_manager": 12, "assistant_director": 12}
    assert max(s.resolved_on for s in done if s.resolved_on) < D(2027, 3, 1)
