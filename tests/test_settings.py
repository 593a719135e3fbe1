"""Service settings: shipped file and defaults, IRO_* overrides, secrets only from the environment,
and broken service.yaml / variables named by file, line (or variable) and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from workers.config.settings import SECRETS, Settings, env_name, iter_leaves, load_settings
from workers.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
NO_ENV: dict[str, str] = {}


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None) -> Path:
    """A config folder with ``text`` as service.yaml (None: no file), as a relative path."""
    folder = tmp_path / "config"
    folder.mkdir()
    if text is not None:
        (folder / "service.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return Path("config")


def test_shipped_file_equals_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CONFIG_DIR.parent)
    shipped = load_settings(CONFIG_DIR, NO_ENV)
    assert shipped.model_dump() == load_settings(tmp_path, NO_ENV).model_dump()


def test_missing_file_means_every_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _config(tmp_path, monkeypatch, None)
    s = load_settings(folder, NO_ENV)
    assert s.config_dir == folder
    assert s.database_url == "sqlite:///var/iro.sqlite3"
    assert s.redis_url is None
    assert s.transport == "outbox"
    assert s.outbox_dir == tmp_path / "var" / "outbox"  # relative → against the cwd
    assert s.documents_dir == tmp_path / "var" / "documents"
    assert s.print_dir == tmp_path / "var" / "print"
    assert s.templates_dir == tmp_path / "templates_docx"
    assert s.runtime_dir == tmp_path / "var" / "run"
    assert s.mailbox.address == "iro.service@council.example.gov.uk"
    assert s.mailbox.reply_to_address == s.mailbox.address
    assert s.email.allowed_domains == [
        "council.example.gov.uk",
        "nhs.net",
        "cafcass.gov.uk",
        "school.example.sch.uk",
    ]
    assert (s.smtp.host, s.smtp.port, s.smtp.security, s.smtp.password) == (
        "localhost",
        25,
        "none",
        None,
    )
    assert (s.ews.auth, s.ews.version, s.ews.verify_tls) == ("ntlm", "Exchange2016", True)
    assert s.graph.base_url == "https://graph.microsoft.com/v1.0"
    assert (s.imap.port, s.worker.processes, s.worker.threads) == (993, 1, 4)
    assert (s.scheduler.tick_seconds, s.scheduler.reconcile_after_seconds) == (10, 20)
    assert (s.libreoffice.soffice, s.libreoffice.timeout_seconds) == ("soffice", 30)
    assert (s.libreoffice.instances, s.libreoffice.start_timeout_seconds) == (None, 120)
    assert s.converter_instances == 1  # one for the 4 threads
    assert s.rate_limit_per_minute is None


def test_empty_file_means_every_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _config(tmp_path, monkeypatch, "# nothing set here\n")
    assert load_settings(folder, NO_ENV).transport == "outbox"


def test_absolute_paths_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _config(tmp_path, monkeypatch, f"outbox_dir: {tmp_path}/out\n")
    assert load_settings(folder, NO_ENV).outbox_dir == tmp_path / "out"


@pytest.mark.parametrize(
    ("environ", "path", "expected"),
    [
        (
            {"IRO_DATABASE_URL": "postgresql+psycopg://db/iro"},
            ("database_url",),
            "postgresql+psycopg://db/iro",
        ),
        ({"IRO_REDIS_URL": "redis://127.0.0.1:6379/0"}, ("redis_url",), "redis://127.0.0.1:6379/0"),
        ({"IRO_TRANSPORT": "ews"}, ("transport",), "ews"),
        ({"IRO_SMTP_HOST": "mail.example"}, ("smtp", "host"), "mail.example"),
        ({"IRO_SMTP_PORT": "2525"}, ("smtp", "port"), 2525),
        ({"IRO_SMTP_TIMEOUT_SECONDS": "2.5"}, ("smtp", "timeout_seconds"), 2.5),
        ({"IRO_WORKER_THREADS": "8"}, ("worker", "threads"), 8),
        ({"IRO_RUNTIME_DIR": "/run/iro"}, ("runtime_dir",), Path("/run/iro")),
        ({"IRO_LIBREOFFICE_INSTANCES": "3"}, ("libreoffice", "instances"), 3),
        ({"IRO_LIBREOFFICE_INSTANCES": "3"}, ("converter_instances",), 3),
        ({"IRO_WORKER_THREADS": "1"}, ("converter_instances",), 1),
        ({"IRO_WORKER_THREADS": "5"}, ("converter_instances",), 2),
        ({"IRO_WORKER_THREADS": "16"}, ("converter_instances",), 2),  # memory: at most 2
        ({"IRO_MAILBOX_RATE_LIMIT_PER_MINUTE": "12"}, ("mailbox", "rate_limit_per_minute"), 12),
        (
            {"IRO_MAILBOX_REPLY_TO": "replies@council.example.gov.uk"},
            ("mailbox", "reply_to"),
            "replies@council.example.gov.uk",
        ),
        ({"IRO_EWS_VERIFY_TLS": "false"}, ("ews", "verify_tls"), False),
        ({"IRO_EWS_VERIFY_TLS": "1"}, ("ews", "verify_tls"), True),
        (
            {"IRO_LIBREOFFICE_SOFFICE": "/opt/lo/soffice"},
            ("libreoffice", "soffice"),
            "/opt/lo/soffice",
        ),
        (
            {"IRO_EMAIL_ALLOWED_DOMAINS": "a.gov.uk, nhs.net,,b.sch.uk "},
            ("email", "allowed_domains"),
            ["a.gov.uk", "nhs.net", "b.sch.uk"],
        ),
        ({"IRO_EMAIL_ALLOWED_DOMAINS": ""}, ("email", "allowed_domains"), []),
        ({"IRO_IMAP_HOST": ""}, ("imap", "host"), None),
        ({"IRO_CONFIG_DIR": "elsewhere", "IRO_TEST_PG_URL": "x"}, ("transport",), "smtp"),
    ],
)
def test_environment_overrides_the_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    path: tuple[str, ...],
    expected: object,
) -> None:
    folder = _config(
        tmp_path, monkeypatch, "transport: smtp\nsmtp:\n  port: 587\nimap:\n  host: imap.example\n"
    )
    value: object = load_settings(folder, environ)
    for key in path:
        value = getattr(value, key)
    assert value == expected


def test_file_values_stay_where_the_environment_is_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _config(tmp_path, monkeypatch, "smtp:\n  host: relay.example\n  port: 587\n")
    s = load_settings(folder, {"IRO_SMTP_PORT": "465", "IRO_SMTP_SECURITY": "tls"})
    assert (s.smtp.host, s.smtp.port, s.smtp.security) == ("relay.example", 465, "tls")


@pytest.mark.parametrize(
    ("variable", "path"),
    [
        ("IRO_SMTP_PASSWORD", ("smtp", "password")),
        ("IRO_EWS_PASSWORD", ("ews", "password")),
        ("IRO_EWS_CLIENT_SECRET", ("ews", "client_secret")),
        ("IRO_GRAPH_CLIENT_SECRET", ("graph", "client_secret")),
        ("IRO_IMAP_PASSWORD", ("imap", "password")),
    ],
)
def test_secrets_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, path: tuple[str, str]
) -> None:
    folder = _config(tmp_path, monkeypatch, None)
    s = load_settings(folder, {variable: "hunter2-not-logged"})
    secret = getattr(getattr(s, path[0]), path[1])
    assert isinstance(secret, SecretStr)
    assert secret.get_secret_value() == "hunter2-not-logged"
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.model_dump())


@pytest.mark.parametrize("path", SECRETS, ids=[".".join(p) for p in SECRETS])
def test_a_secret_in_the_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...]
) -> None:
    text = f"transport: smtp\n{path[0]}:\n  {path[1]}: hunter2-in-a-file\n"
    folder = _config(tmp_path, monkeypatch, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(folder, NO_ENV)
    message = str(caught.value)
    assert message == (
        f"config/service.yaml:3: {'.'.join(path)}: "
        f"secrets come only from the environment: set {env_name(path)}"
    )
    assert "hunter2" not in message


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.transport = "smtp"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("transport", "setting", "expected"),
    [
        ("ews", None, 30),
        ("graph", None, 30),
        ("smtp", None, None),
        ("outbox", None, None),
        ("smtp", "10", 10),
        ("graph", "100", 100),
    ],
)
def test_rate_limit_defaults_to_exchanges_limit(
    transport: str, setting: str | None, expected: int | None, tmp_path: Path
) -> None:
    env = {"IRO_TRANSPORT": transport}
    if setting:
        env["IRO_MAILBOX_RATE_LIMIT_PER_MINUTE"] = setting
    assert load_settings(tmp_path, env).rate_limit_per_minute == expected


def test_variable_names_are_unique_and_follow_the_dotted_path() -> None:
    names = [env_name(path) for path, _ in iter_leaves(Settings)]
    assert len(names) == len(set(names))
    assert {"IRO_DATABASE_URL", "IRO_MAILBOX_RATE_LIMIT_PER_MINUTE", "IRO_SMTP_HOST"} <= set(names)
    assert "IRO_CONFIG_DIR" not in names  # the folder is chosen by --config / IRO_CONFIG_DIR


BROKEN = [
    ("unknown key", "transprot: smtp\n", 1, "transprot", "did you mean 'transport'?"),
    ("nested typo", "smtp:\n  hots: x\n", 2, "smtp.hots", "did you mean 'host'?"),
    ("bad choice", "transport: pigeon\n", 1, "transport", "'outbox', 'smtp', 'ews' or 'graph'"),
    (
        "not a number",
        "worker:\n  processes: 1\n  threads: many\n",
        3,
        "worker.threads",
        "valid integer",
    ),
    ("out of range", "smtp:\n  port: 70000\n", 2, "smtp.port", "less than or equal to 65535"),
    ("zero threads", "worker:\n  threads: 0\n", 2, "worker.threads", "greater than or equal to 1"),
    ("section as scalar", "smtp: localhost\n", 1, "smtp", "valid dictionary"),
    (
        "duplicate key",
        "transport: smtp\ntransport: ews\n",
        2,
        "transport",
        "duplicate key (first at line 1)",
    ),
    ("syntax", "smtp:\n  host: [a\n", 3, "YAML syntax", "expected ',' or ']'"),
    ("top-level list", "- transport\n", 1, "(file)", "mapping"),
    ("config_dir in the file", "config_dir: /etc\n", 1, "config_dir", "--config or IRO_CONFIG_DIR"),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_broken_service_yaml(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    line: int,
    field: str,
    reason: str,
) -> None:
    folder = _config(tmp_path, monkeypatch, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(folder, NO_ENV)
    message = str(caught.value)
    assert message.startswith(f"config/service.yaml:{line}: {field}: "), message
    assert reason in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("variable", "value", "field", "reason"),
    [
        ("IRO_WORKER_THREADS", "many", "worker.threads", "valid integer"),
        ("IRO_TRANSPORT", "pigeon", "transport", "'outbox', 'smtp', 'ews' or 'graph'"),
        ("IRO_SMTP_SECURITY", "ssl", "smtp.security", "'none', 'starttls' or 'tls'"),
        ("IRO_EWS_VERIFY_TLS", "perhaps", "ews.verify_tls", "valid boolean"),
        ("IRO_MAILBOX_RATE_LIMIT_PER_MINUTE", "0", "mailbox.rate_limit_per_minute", ">= 1"),
    ],
)
def test_a_bad_variable_is_named(
    tmp_path: Path, variable: str, value: str, field: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, {variable: value})
    message = str(caught.value)
    assert message.startswith(f"environment {variable}: {field}: "), message
    assert reason.replace(">= 1", "greater than or equal to 1") in message


def test_file_and_variable_problems_are_reported_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _config(tmp_path, monkeypatch, "worker:\n  processes: lots\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(folder, {"IRO_SMTP_PORT": "smtp"})
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("config/service.yaml:2: worker.processes: ")
    assert lines[1].startswith("environment IRO_SMTP_PORT: smtp.port: ")
