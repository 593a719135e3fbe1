"""Who's who, from config/directory.yaml: the IRO manager, the IROs, teams and escalation managers.

Escalation stages in rules.yaml name their recipients by key; this module resolves those keys.
``iro`` is the child's IRO and ``team_manager`` the manager of the child's team (both from the
case record); ``iro_manager`` and every ``stage_managers`` key name one person here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workers.config.yamlsource import read_yaml, validate
from workers.mail.addresses import is_email_address

CASE_KEYS = frozenset({"iro", "team_manager", "iro_manager"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Model):
    name: str = Field(min_length=1)
    email: str
    phone: str = ""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not is_email_address(value):
            raise ValueError(f"expected an email address like name@example.gov.uk, got {value!r}")
        return value.lower()


class Team(_Model):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    team_manager: Person


class Directory(_Model):
    iro_manager: Person
    iros: list[Person] = Field(min_length=1)
    teams: list[Team] = []
    stage_managers: dict[str, Person] = {}

    def iro(self, email: str) -> Person | None:
        wanted = email.strip().lower()
        return next((p for p in self.iros if p.email == wanted), None)

    def team(self, key: str) -> Team | None:
        return next((t for t in self.teams if t.key == key), None)

    def iro_names(self) -> dict[str, str]:
        """Each IRO's email to their name, for reports that show people by name."""
        return {p.email: p.name for p in self.iros}

    def resolvable_keys(self) -> frozenset[str]:
        return CASE_KEYS | frozenset(self.stage_managers)

    def resolve(
        self, key: str, *, team_key: str | None = None, iro_email: str | None = None
    ) -> Person | None:
        """The person behind a recipient key; team and IRO come from the case record."""
        if key == "iro_manager":
            return self.iro_manager
        if key == "iro":
            return self.iro(iro_email) if iro_email else None
        if key == "team_manager":
            team = self.team(team_key) if team_key else None
            return team.team_manager if team else None
        return self.stage_managers.get(key)


def load_directory(path: Path) -> Directory:
    """Load directory.yaml; raise ConfigError with ``<path>:<line>: <field>: <reason>`` lines."""
    source = read_yaml(path)
    directory = validate(source, Directory)
    problems = []
    seen: dict[str, int] = {}
    for i, person in enumerate(directory.iros):
        if person.email in seen:
            problems.append(
                source.problem(
                    ("iros", i, "email"), f"duplicate IRO (first at iros[{seen[person.email]}])"
                )
            )
        seen.setdefault(person.email, i)
    team_keys: dict[str, int] = {}
    for i, team in enumerate(directory.teams):
        if team.key in team_keys:
            problems.append(
                source.problem(
                    ("teams", i, "key"),
                    f"duplicate team key (first at teams[{team_keys[team.key]}])",
                )
            )
        team_keys.setdefault(team.key, i)
    for key in directory.stage_managers:
        if key in CASE_KEYS:
            problems.append(
                source.problem(
                    ("stage_managers", key),
                    f"{key!r} is resolved from the case record; use another key",
                )
            )
    if problems:
        raise source.fail(problems)
    return directory
