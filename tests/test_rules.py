"""rules.yaml and directory.yaml: the shipped files load, and every kind of broken file is named
by file, line and field (data-driven: each case edits the shipped file the way a person might)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from workers.config.directory import load_directory
from workers.config.offsets import Offset
from workers.config.rules import Rules, load_rules
from workers.config.rules_checks import check_recipients
from workers.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

SHIPPED_RULES = (CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8")
SHIPPED_DIRECTORY = (CONFIG_DIR / "directory.yaml").read_text(encoding="utf-8")


@pytest.fixture
def rules() -> Rules:
    return load_rules(CONFIG_DIR / "rules.yaml")


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not in the edited file"
    return hits[occurrence - 1]


def _write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> Path:
    """Write into tmp/config/ and return the *relative* path, as a person would pass it."""
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return Path("config") / name


# --- the shipped rules --------------------------------------------------------------------------


def test_shipped_rules_are_the_design_defaults(rules: Rules) -> None:
    rt = rules.review_timescales
    assert rt.first == Offset(20, "working_days", "after", "looked_after")
    assert rt.second == Offset(3, "months", "after", "previous_review")
    assert rt.subsequent == Offset(6, "months", "after", "previous_review")
    assert str(rules.mailout.invitations) == "15 working days before review"
    assert str(rules.mailout.return_by) == "3 working days before review"
    assert str(rules.write_up.decisions.due) == "5 working days after held"
    assert str(rules.write_up.record.due) == "15 working days after held"
    assert [str(r) for r in rules.write_up.record.reminders] == [
        "5 working days before due",
        "1 working day before due",
    ]
    assert rules.write_up.overdue_notice_to == "iro_manager"
    assert [s.key for s in rules.escalation.stages] == [
        "informal",
        "deputy_manager",
        "group_manager",
        "head_of_service",
        "assistant_director",
        "cafcass",
    ]
    assert str(rules.escalation.total_ceiling) == "20 working days after raised"
    assert {c.key for c in rules.escalation.categories} == {
        "delay_in_review_decisions",
        "placement_order_not_rescinded",
        "pep_not_recorded",
        "connected_person_assessment_delayed",
        "pathway_plan_not_updated",
        "sw_visits_out_of_timescale",
        "other",
    }
    assert rules.roles == ["child", "parent", "carer", "social_worker", "guardian", "other"]
    assert sorted(rules.participation_codes) == [f"PN{i}" for i in range(8)]
    assert set(rules.consultation.forms) == {"parent", "carer", "social_worker"}
    assert all(stage.template for stage in rules.escalation.stages)


def test_model_defaults_match_the_shipped_file(rules: Rules) -> None:
    # The file restates the defaults with their sources; the two must not drift apart.
    bare = Rules.model_validate({"escalation": rules.escalation.model_dump()})
    assert bare.review_timescales == rules.review_timescales
    assert bare.write_up == rules.write_up
    assert bare.mailout.model_dump(exclude={"reminders"}) == rules.mailout.model_dump(
        exclude={"reminders"}
    )


@pytest.mark.parametrize(
    ("year", "working_days"),
    [
        # 24 Dec - 1 Jan; Christmas, Boxing Day (or substitutes) and New Year's Day are holidays.
        (
            2025,
            [
                dt.date(2025, 12, 24),
                dt.date(2025, 12, 29),
                dt.date(2025, 12, 30),
                dt.date(2025, 12, 31),
            ],
        ),
        (
            2026,
            [
                dt.date(2026, 12, 24),
                dt.date(2026, 12, 29),
                dt.date(2026, 12, 30),
                dt.date(2026, 12, 31),
            ],
        ),
    ],
)
def test_christmas_closures_shipped(rules: Rules, year: int, working_days: list[dt.date]) -> None:
    days = rules.calendar.closure_days()
    start, end = dt.date(year, 12, 24), dt.date(year + 1, 1, 1)
    assert {d for d in days if start <= d <= end} == {
        start + dt.timedelta(n) for n in range((end - start).days + 1)
    }
    import holidays

    bank = holidays.country_holidays("GB", subdiv="ENG")
    closed = sorted(d for d in days if start <= d <= end and d.weekday() < 5 and d not in bank)
    assert closed == working_days


@pytest.mark.parametrize(
    ("age", "band"),
    [(0, None), (3, None), (4, "4-7"), (7, "4-7"), (8, "8-11"), (11, "8-11"), (12, "12-15"),
     (15, "12-15"), (16, "16+"), (17, "16+"), (21, "16+")],
)  # fmt: skip
def test_age_band_for(rules: Rules, age: int, band: str | None) -> None:
    found = rules.age_band_for(age)
    assert (found.key if found else None) == band


def test_shipped_directory_resolves_every_recipient(rules: Rules) -> None:
    directory = load_directory(CONFIG_DIR / "directory.yaml")
    assert check_recipients(rules, directory) == []
    assert len(directory.iros) == 5 and len(directory.teams) == 3
    assert directory.iro("Daniel.Hughes@council.example.gov.uk") is not None
    assert directory.iro("nobody@council.example.gov.uk") is None
    assert directory.team("north_lac") is not None and directory.team("east") is None
    assert directory.resolve("cafcass") is not None
    assert directory.resolve("cafcass").email.endswith("@cafcass.gov.uk")  # type: ignore[union-attr]
    team = directory.team("south_lac")
    assert team is not None
    assert directory.resolve("team_manager", team_key="south_lac") == team.team_manager
    assert directory.resolve("iro", iro_email=directory.iros[0].email) == directory.iros[0]
    everyone = [directory.iro_manager, *directory.iros, *directory.stage_managers.values()]
    everyone += [t.team_manager for t in directory.teams]
    assert all(p.email.endswith(("@council.example.gov.uk", "@cafcass.gov.uk")) for p in everyone)


# --- broken rules.yaml: (what a person did, edit, field, reason, the line to point at) ----------

HINT = "expected '<n> working days|days|weeks|months before|after <event>', got 'fifteen'"
BROKEN_RULES = [
    (
        "offset in words",
        "due: 15 working days after held",
        "due: fifteen",
        "write_up.record.due",
        HINT,
        "due: fifteen",
        1,
    ),
    (
        "typo in a key",
        "  return_by:",
        "  retrun_by:",
        "mailout.retrun_by",
        "did you mean 'return_by'?",
        "retrun_by",
        1,
    ),
    ("unknown top-level key", "roles: [", "role: [", "role", "unknown key", "role: [", 1),
    (
        "wrong type",
        "min_age: 8, max_age: 11",
        "min_age: eight, max_age: 11",
        "consultation.age_bands[1].min_age",
        "valid integer",
        "eight",
        1,
    ),
    (
        "not a bool",
        "template: escalation_informal",
        "template: escalation_informal\n      auto_advance_on_timeout: maybe",
        "escalation.stages[0].auto_advance_on_timeout",
        "valid boolean",
        "maybe",
        1,
    ),
    (
        "impossible date",
        "start: 2025-12-24",
        "start: 2025-12-32",
        "calendar.closures[0].start",
        "valid date",
        "2025-12-32",
        1,
    ),
    (
        "misspelt event",
        "3 working days before review",
        "3 working days before reveiw",
        "mailout.return_by",
        "unknown event 'reveiw'",
        "reveiw",
        1,
    ),
    (
        "event of another section",
        "due: 5 working days after held",
        "due: 5 working days after review",
        "write_up.decisions.due",
        "unknown event 'review'",
        "after review",
        1,
    ),
    (
        "unknown unit",
        "6 months after previous_review",
        "6 fortnights after previous_review",
        "review_timescales.subsequent",
        "expected '<n> working days",
        "fortnights",
        1,
    ),
    (
        "first review from the wrong event",
        "20 working days after looked_after",
        "20 working days after previous_review",
        "review_timescales.first",
        "must count after looked_after",
        "first:",
        1,
    ),
    (
        "reminder after its deadline",
        "- 1 working day before due",
        "- 1 working day after due",
        "write_up.decisions.reminders[0]",
        "must fall before the deadline",
        "1 working day after due",
        1,
    ),
    (
        "reminder past the write-up",
        "- 5 working days before due",
        "- 16 working days after held",
        "write_up.record.reminders[0]",
        "must fall before the deadline",
        "16 working days",
        1,
    ),
    (
        "mail-out reminder after return-by",
        "at: 7 working days before review",
        "at: 2 working days before review",
        "mailout.reminders[0].at",
        "before the return-by date",
        "at: 2 working",
        1,
    ),
    (
        "reminder to an unknown role",
        "to: [child, parent, carer, social_worker]",
        "to: [child, parnet]",
        "mailout.reminders[0].to[1]",
        "unknown role 'parnet'",
        "parnet",
        1,
    ),
    (
        "duplicate key",
        "  return_by: 3 working days before review",
        "  return_by: 3 working days before review\n  return_by: 2 working days before review",
        "mailout.return_by",
        "duplicate key (first at line",
        "return_by:",
        2,
    ),
    (
        "duplicate stage key",
        "- key: group_manager",
        "- key: deputy_manager",
        "escalation.stages[2].key",
        "duplicate 'deputy_manager'",
        "key: deputy_manager",
        2,
    ),
    (
        "duplicate category",
        "- key: other",
        "- key: pep_not_recorded",
        "escalation.categories[6].key",
        "duplicate 'pep_not_recorded'",
        "key: pep_not_recorded",
        2,
    ),
    (
        "stage without template",
        "      template: escalation_cafcass\n",
        "",
        "escalation.stages[5].template",
        "required field is missing",
        "- key: cafcass",
        1,
    ),
    (
        "overlapping age bands",
        "min_age: 8, max_age: 11",
        "min_age: 7, max_age: 11",
        "consultation.age_bands[1].min_age",
        "overlaps band '4-7'",
        "min_age: 7",
        1,
    ),
    (
        "upside-down band",
        "min_age: 12, max_age: 15",
        "min_age: 15, max_age: 12",
        "consultation.age_bands[2].max_age",
        "below min_age",
        "min_age: 15",
        1,
    ),
    (
        "closure ends before it starts",
        "end: 2027-01-01",
        "end: 2026-12-01",
        "calendar.closures[1].end",
        "before it starts",
        "end: 2026-12-01",
        1,
    ),
    (
        "form for an unknown role",
        "    carer: consultation_carer",
        "    foster_carer: consultation_carer",
        "consultation.forms.foster_carer",
        "unknown role",
        "foster_carer",
        1,
    ),
    (
        "unknown country",
        "country: GB",
        "country: XX",
        "calendar.country",
        "no bank holiday calendar",
        "country: XX",
        1,
    ),
    (
        "unknown subdivision",
        "subdivision: ENG",
        "subdivision: ENGLAND",
        "calendar.subdivision",
        "unknown subdivision",
        "ENGLAND",
        1,
    ),
    (
        "scalar where a list belongs",
        "reminders:\n      - 1 working day before due",
        "reminders: 1 working day before due",
        "write_up.decisions.reminders",
        "valid list",
        "reminders: 1 working",
        1,
    ),
    (
        "empty offset",
        "invitations: 15 working days before review",
        "invitations:",
        "mailout.invitations",
        "is empty; expected '<n> working days",
        "invitations:",
        1,
    ),
    # zero where it makes no sense: letters on the review day, a deadline on its own start day
    (
        "zero mail-out offset",
        "return_by: 3 working days before review",
        "return_by: 0 working days before review",
        "mailout.return_by",
        "'0 working days before review' puts it on the day of the review: zero makes no sense",
        "return_by: 0",
        1,
    ),
    (
        "zero first review",
        "first: 20 working days after looked_after",
        "first: 0 working days after looked_after",
        "review_timescales.first",
        "zero makes no sense here; give 1 or more",
        "first: 0",
        1,
    ),
    (
        "zero write-up",
        "due: 15 working days after held",
        "due: 0 working days after held",
        "write_up.record.due",
        "makes it due on the meeting day",
        "due: 0",
        1,
    ),
    (
        "zero stage response",
        "response_due: 5 working days after stage_start",
        "response_due: 0 working days after stage_start",
        "escalation.stages[0].response_due",
        "zero makes no sense here",
        "response_due: 0",
        1,
    ),
    (
        "zero ceiling",
        "total_ceiling: 20 working days after raised",
        "total_ceiling: 0 working days after raised",
        "escalation.total_ceiling",
        "makes it due the day it is raised",
        "total_ceiling: 0",
        1,
    ),
    (
        "stage key with spaces",
        "- key: informal",
        "- key: informal chat",
        "escalation.stages[0].key",
        "should match pattern",
        "informal chat",
        1,
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "reason", "needle", "occurrence"),
    [case[1:] for case in BROKEN_RULES],
    ids=[case[0] for case in BROKEN_RULES],
)
def test_broken_rules_name_file_line_and_field(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    old: str,
    new: str,
    field: str,
    reason: str,
    needle: str,
    occurrence: int,
) -> None:
    assert old in SHIPPED_RULES
    text = SHIPPED_RULES.replace(old, new, 1)
    path = _write(tmp_path, monkeypatch, "rules.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    message = str(caught.value)
    line = _line_of(text, needle, occurrence)
    assert f"config/rules.yaml:{line}: {field}: " in message, message
    assert reason in message
    assert caught.value.exit_code == 2


def test_the_issues_example_message_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = SHIPPED_RULES.replace("due: 15 working days after held", "due: fifteen")
    path = _write(tmp_path, monkeypatch, "rules.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    line = _line_of(text, "due: fifteen")
    assert str(caught.value) == (
        f"config/rules.yaml:{line}: write_up.record.due: expected "
        "'<n> working days|days|weeks|months before|after <event>', got 'fifteen'"
    )


def test_every_problem_is_reported_not_just_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        SHIPPED_RULES.replace("due: 15 working days after held", "due: fifteen")
        .replace("  return_by:", "  retrun_by:")
        .replace("start: 2026-12-24", "start: 2026-13-24")
    )
    path = _write(tmp_path, monkeypatch, "rules.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    numbers = [int(re.match(r"config/rules.yaml:(\d+): ", x)[1]) for x in lines]  # type: ignore[index]
    assert numbers == sorted(numbers)  # in file order
    assert [x.split(": ")[1] for x in lines] == [
        "calendar.closures[1].start",
        "mailout.retrun_by",
        "write_up.record.due",
    ]


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        ("", None, "(file)", "empty"),
        ("# only a comment\n", None, "(file)", "empty"),
        ("- a\n- b\n", 1, "(file)", "mapping"),
        ("calendar:\n  country: GB\n   subdivision: ENG\n", 3, "YAML syntax", "mapping values"),
        ("calendar: {country: GB\nroles: [child]\n", 2, "YAML syntax", "expected ',' or '}'"),
        ("calendar:\n\tcountry: GB\n", 2, "YAML syntax", "not tabs"),
        ("roles: [child]\nroles: [parent]\n", 2, "roles", "duplicate key (first at line 1)"),
        ("calendar:\n  country: GB\n", 1, "escalation", "required field is missing"),
    ],
    ids=["empty", "comments only", "top-level list", "bad indent", "unclosed flow", "tab",
         "duplicate top-level key", "missing section"],
)  # fmt: skip
def test_broken_yaml(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    line: int | None,
    field: str,
    reason: str,
) -> None:
    path = _write(tmp_path, monkeypatch, "rules.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(f"config/rules.yaml:{line or 1}: {field}: "), message
    assert reason in message


def test_missing_rules_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^config/rules.yaml: file not found"):
        load_rules(Path("config/rules.yaml"))


def test_unknown_recipient_is_found_against_the_directory(rules: Rules) -> None:
    directory = load_directory(CONFIG_DIR / "directory.yaml")
    stages = [
        s.model_copy(update={"recipients": ["deputy_manger"]}) for s in rules.escalation.stages
    ]
    broken = rules.model_copy(
        update={"escalation": rules.escalation.model_copy(update={"stages": stages})}
    )
    findings = check_recipients(broken, directory)
    assert findings[0][0] == ("escalation", "stages", 0, "recipients", 0)
    assert "unknown recipient 'deputy_manger'" in findings[0][1]
    assert "deputy_manager" in findings[0][1]  # the keys it could have been


# --- broken directory.yaml ------------------------------------------------------------------------

BROKEN_DIRECTORY = [
    (
        "bad email",
        "email: martin.greene@council.example.gov.uk",
        "email: martin.greene",
        "stage_managers.deputy_manager.email",
        "expected an email address",
        "martin.greene",
    ),
    (
        "typo",
        "  phone: 020 7946 0100",
        "  phnoe: 020 7946 0100",
        "iro_manager.phnoe",
        "did you mean 'phone'?",
        "phnoe",
    ),
    (
        "duplicate team",
        "- key: south_lac",
        "- key: north_lac",
        "teams[1].key",
        "duplicate team key",
        "key: north_lac\n",
    ),
    (
        "no IRO manager",
        "iro_manager:\n  name: Patricia Okafor\n",
        "iro_boss:\n  name: Patricia Okafor\n",
        "iro_boss",
        "unknown key",
        "iro_boss",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "reason", "needle"),
    [case[1:] for case in BROKEN_DIRECTORY],
    ids=[case[0] for case in BROKEN_DIRECTORY],
)
def test_broken_directory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    old: str,
    new: str,
    field: str,
    reason: str,
    needle: str,
) -> None:
    assert old in SHIPPED_DIRECTORY
    text = SHIPPED_DIRECTORY.replace(old, new, 1)
    path = _write(tmp_path, monkeypatch, "directory.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_directory(path)
    occurrence = 2 if field == "teams[1].key" else 1
    line = _line_of(text, needle.strip(), occurrence)
    assert f"config/directory.yaml:{line}: {field}: " in str(caught.value), str(caught.value)
    assert reason in str(caught.value)
