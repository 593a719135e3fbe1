"""config/audit.yaml: the agreed standards review records are audited against, and how often each
IRO is observed chairing.

Validated like rules.yaml (workers.config.yamlsource): every problem is one
``file:line: field: reason`` line. Each standard is rated met, partly or not_met.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workers.config.yamlsource import read_yaml, validate
from workers.errors import BadInputError

RATINGS = ("met", "partly", "not_met")
RATING_TITLES = {"met": "Met", "partly": "Partly met", "not_met": "Not met"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Standard(_Model):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1)
    source: str = ""  # where the standard comes from (a paragraph of the annual report)


class AuditConfig(_Model):
    observation_months: int = Field(default=12, ge=1, le=36)
    standards: list[Standard] = Field(min_length=1)

    def titles(self) -> dict[str, str]:
        return {s.key: s.title for s in self.standards}

    def check_ratings(self, ratings: Mapping[str, str]) -> dict[str, str]:
        """Ratings as stored (standard key → met|partly|not_met), in audit.yaml's order; every
        problem named at once. A standard not given was not audited this time."""
        return check_ratings(self.titles(), ratings)


def check_ratings(titles: Mapping[str, str], ratings: Mapping[str, str]) -> dict[str, str]:
    problems = []
    for key, value in ratings.items():
        if key not in titles:
            problems.append(f"{key}: no such standard in audit.yaml (standards: "
                            f"{', '.join(titles)})")
        elif value not in RATINGS:
            problems.append(f"{key}={value}: expected {' | '.join(RATINGS)}")
    if problems:
        raise BadInputError("; ".join(problems))
    if not ratings:
        raise BadInputError("rate at least one standard (e.g. --standard smart_decisions=met)")
    return {key: ratings[key] for key in titles if key in ratings}


def parse_pairs(pairs: Iterable[str], name: str = "--standard") -> dict[str, str]:
    """``["smart_decisions=met", ...]`` → a dict; a malformed or repeated pair is refused."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip().lower().replace(" ", "_")
        if not sep or not key or not value:
            raise BadInputError(f"{name} {pair!r}: expected STANDARD=met|partly|not_met")
        if key in out:
            raise BadInputError(f"{name}: {key} is rated twice")
        out[key] = value
    return out


def load_audit(path: Path) -> AuditConfig:
    """Load audit.yaml; raise ConfigError with ``<path>:<line>: <field>: <reason>`` lines."""
    source = read_yaml(path)
    config = validate(source, AuditConfig)
    seen: dict[str, int] = {}
    problems = []
    for i, standard in enumerate(config.standards):
        if standard.key in seen:
            problems.append(source.problem(
                ("standards", i, "key"),
                f"standard {standard.key!r} appears twice "
                f"(first at standards[{seen[standard.key]}])"))
        seen.setdefault(standard.key, i)
    if problems:
        raise source.fail(problems)
    return config
