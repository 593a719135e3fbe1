"""The letterhead comes from service.yaml: each council's letters carry its own name and address."""

from __future__ import annotations

from pathlib import Path

import yaml

from workers.config.settings import load_settings
from workers.documents.contexts import Letterhead


def test_letterhead_from_service_yaml_and_environment(config_copy: Path) -> None:
    service = config_copy / "service.yaml"
    data = yaml.safe_load(service.read_text())
    data["letterhead"]["name"] = "Royal Borough of Example & Sons"
    data["letterhead"]["address_lines"] = ["Town Hall", "High Street", "EX9 9XX"]
    service.write_text(yaml.safe_dump(data))

    settings = load_settings(config_copy, environ={"IRO_LETTERHEAD_PHONE": "01234 567890"})
    head = Letterhead.from_settings(settings.letterhead)

    assert head.name == "Royal Borough of Example & Sons"
    assert head.address_lines == ("Town Hall", "High Street", "EX9 9XX")
    assert head.phone == "01234 567890"


def test_mailout_letters_carry_the_configured_letterhead(config_copy: Path) -> None:
    from workers.mailout.documents import MailoutConfig

    service = config_copy / "service.yaml"
    data = yaml.safe_load(service.read_text())
    data["letterhead"]["name"] = "Exampleshire County Council"
    service.write_text(yaml.safe_dump(data))
    settings = load_settings(config_copy, environ={})

    cfg = MailoutConfig(None, None, None, settings)  # type: ignore[arg-type]
    assert cfg.letterhead.name == "Exampleshire County Council"
