"""Who is told at each stage, from directory.yaml (never typed at send time: DESIGN.md §6).

A stage's notice goes *to* the stage's recipients (directory keys in rules.yaml: ``team_manager``
is the child's team manager, ``iro_manager`` the IRO manager, any other key a stage manager), and
is *copied* to the IRO and to those at the stages below it, so everyone already involved sees the
concern move up. Overdue alerts go to the IRO; a passed ceiling to the IRO, copying the IRO manager.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from workers.errors import ConfigError
from workers.escalation.machine import Notice
from workers.escalation.policy import Policy

Role = Literal["to", "cc"]


class PersonLike(Protocol):
    @property
    def email(self) -> str: ...


class TeamLike(Protocol):
    @property
    def team_manager(self) -> PersonLike: ...


class DirectoryLike(Protocol):
    @property
    def iro_manager(self) -> PersonLike: ...

    @property
    def stage_managers(self) -> Mapping[str, PersonLike]: ...

    def team(self, key: str) -> TeamLike | None: ...


@dataclass(frozen=True)
class Addressee:
    email: str
    role: Role
    as_: str  # the directory key they are reached as: team_manager, deputy_manager, iro, …


def _person(directory: DirectoryLike, key: str, team: str, iro_email: str) -> str:
    if key == "iro":
        return iro_email
    if key == "iro_manager":
        return directory.iro_manager.email
    if key == "team_manager":
        found = directory.team(team)
        if found is None:
            raise ConfigError(
                f"directory.yaml: teams: no team {team!r} (the child's team in the case record); "
                "add it with its team_manager"
            )
        return found.team_manager.email
    person = directory.stage_managers.get(key)
    if person is None:
        raise ConfigError(
            f"directory.yaml: stage_managers.{key}: missing; rules.yaml escalation.stages names "
            f"{key!r} as a recipient"
        )
    return person.email


def _dedupe(people: list[Addressee]) -> tuple[Addressee, ...]:
    """One message per address; being addressed beats being copied."""
    seen: dict[str, Addressee] = {}
    for p in sorted(people, key=lambda a: a.role != "to"):
        seen.setdefault(p.email.strip().lower(), p)
    return tuple(seen.values())


def addressees(
    policy: Policy,
    directory: DirectoryLike,
    notice: Notice,
    *,
    team: str,
    iro_email: str,
    ladder_stage: str,
) -> tuple[Addressee, ...]:
    """The people a notice goes to. ``ladder_stage`` is the internal stage the escalation is at
    (for a CAFCASS referral alongside, those at and below it are copied)."""
    if notice.kind == "overdue":
        return (Addressee(iro_email, "to", "iro"),)
    if notice.kind == "ceiling":
        return _dedupe(
            [
                Addressee(iro_email, "to", "iro"),
                Addressee(directory.iro_manager.email, "cc", "iro_manager"),
            ]
        )
    stage = policy.stage(notice.stage)
    people = [Addressee(_person(directory, k, team, iro_email), "to", k) for k in stage.recipients]
    people.append(Addressee(iro_email, "cc", "iro"))
    top = policy.index(stage.key)
    if notice.stage != ladder_stage:
        top = min(top, policy.index(ladder_stage) + 1)
    for below in policy.stages[:top]:
        for k in below.recipients:
            people.append(Addressee(_person(directory, k, team, iro_email), "cc", k))
    return _dedupe(people)
