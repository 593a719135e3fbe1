"""docker/compose.yaml is valid Compose and every service's command is a real `iro` command.

No Docker engine runs here, so the file is checked against the Compose specification's JSON
schema (tests/data/compose-spec.json, from compose-spec/compose-spec schema/compose-spec.json).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker" / "compose.yaml"
SCHEMA = Path(__file__).resolve().parent / "data" / "compose-spec.json"
IRO = str(Path(sys.executable).with_name("iro"))


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def validator() -> jsonschema.Draft7Validator:
    # the schema declares draft-07 (its $schema URL lacks the "#" jsonschema looks up)
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_compose_file_matches_the_compose_specification() -> None:
    validator().validate(compose())


def test_the_schema_rejects_a_broken_file() -> None:
    """The check has teeth: a misspelt key fails validation."""
    broken = compose()
    broken["services"]["worker"]["comand"] = ["worker"]
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(broken)


def test_redis_persists_and_services_have_health_checks() -> None:
    services = compose()["services"]
    assert "--appendonly" in services["redis"]["command"]
    for name in ("redis", "postgres", "worker", "scheduler"):
        assert "healthcheck" in services[name], name


IRO_SERVICES = [name for name, s in compose()["services"].items()
                if s.get("image", "").startswith("iro-workers")]


@pytest.mark.parametrize("service", IRO_SERVICES)
def test_every_service_command_is_a_real_iro_command(service: str) -> None:
    command = compose()["services"][service]["command"]
    words = [w for w in command if not w.startswith("-")]
    # the sub-command path is the leading words before any option ("db upgrade", "worker")
    path = words[: 2 if words[0] in ("db", "dispatches") else 1]
    result = subprocess.run([IRO, *path, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for option in (w for w in command if w.startswith("--")):
        assert option in result.stdout, f"{service}: iro {' '.join(path)} has no {option}"


def test_no_secret_is_written_in_the_compose_file() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for line in text.splitlines():
        if "PASSWORD" in line or "SECRET" in line:
            assert "${" in line or line.lstrip().startswith("#"), line
