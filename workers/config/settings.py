"""Service settings: config/service.yaml, then IRO_* overrides; secrets only from the environment.

The variable for a setting is ``IRO_`` + its dotted path upper-cased with ``_`` (``smtp.host`` →
``IRO_SMTP_HOST``, ``worker.threads`` → ``IRO_WORKER_THREADS``). The names are derived from the
models below, so a new field gets its variable for free. Lists read comma-separated.
Relative paths are resolved against the current working directory when loaded.
"""

from __future__ import annotations

import difflib
import os
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from workers.config.post import PostSettings
from workers.config.yamlsource import Problem, YamlSource, dotted, problems_from, read_yaml
from workers.errors import ConfigError
from workers.mail.addresses import is_email_address

ENV_PREFIX = "IRO_"
# The service's default rate for Exchange Online and EWS: at most 30 messages a minute per mailbox.
EXCHANGE_RATE_LIMIT = 30
# LibreOffice processes per worker process unless libreoffice.instances says (Settings)
THREADS_PER_INSTANCE = 4
MAX_DEFAULT_INSTANCES = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MailboxSettings(_Model):
    address: str = "iro.service@council.example.gov.uk"
    display_name: str = "Independent Reviewing Service"
    reply_to: str | None = None  # None → address
    processed_folder: str = "Processed"
    rate_limit_per_minute: int | None = Field(default=None, ge=1)
    record_reply_days: int = Field(default=30, ge=1, le=365)  # an emailed record kept unconfirmed

    @field_validator("address", "reply_to")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        # A mailbox without a domain is a bad configuration, found here, not a send that
        # retries for ever (EWS, Graph and SMTP would each refuse it at the first letter).
        if value is not None and not is_email_address(value):
            raise ValueError(f"expected an email address like iro.service@council.gov.uk, "
                             f"got {value!r}")
        return value

    @property
    def reply_to_address(self) -> str:
        return self.reply_to or self.address


class LetterheadSettings(_Model):
    """What the top of every letter prints: each council sets its own."""

    name: str = "Example Borough Council"
    service: str = "Independent Reviewing Service"
    address_lines: list[str] = ["Civic Centre", "Stockwell Close", "Exampleton", "EX1 3UH"]
    phone: str = "020 8000 0000"
    email: str = "iro.service@council.example.gov.uk"
    # UK GDPR Art. 13: the council is the data controller; the return instructions point here.
    privacy_notice: str = "www.council.example.gov.uk/privacy/childrens-social-care"


class EmailPolicy(_Model):
    allowed_domains: list[str] = [
        "council.example.gov.uk",
        "nhs.net",
        "cafcass.gov.uk",
        "school.example.sch.uk",
    ]


class SmtpSettings(_Model):
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    timeout_seconds: float = Field(default=30, gt=0)
    password: SecretStr | None = None  # IRO_SMTP_PASSWORD only


class EwsSettings(_Model):
    endpoint: str | None = None  # e.g. https://mail.council.example/EWS/Exchange.asmx
    auth: Literal["ntlm", "basic", "oauth2"] = "ntlm"
    username: str | None = None
    version: str = "Exchange2016"
    tenant_id: str | None = None
    client_id: str | None = None
    verify_tls: bool = True
    timeout_seconds: float = Field(default=30, gt=0)
    password: SecretStr | None = None  # IRO_EWS_PASSWORD only
    client_secret: SecretStr | None = None  # IRO_EWS_CLIENT_SECRET only


class GraphSettings(_Model):
    tenant_id: str | None = None
    client_id: str | None = None
    authority_host: str = "https://login.microsoftonline.com"
    base_url: str = "https://graph.microsoft.com/v1.0"
    timeout_seconds: float = Field(default=30, gt=0)
    client_secret: SecretStr | None = None  # IRO_GRAPH_CLIENT_SECRET only


class ImapSettings(_Model):
    host: str | None = None
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str | None = None
    password: SecretStr | None = None  # IRO_IMAP_PASSWORD only


class WorkerSettings(_Model):
    processes: int = Field(default=1, ge=1)
    threads: int = Field(default=4, ge=1)


class SchedulerSettings(_Model):
    # A killed worker's letters must go within a minute (issue 4): a claim's lease is
    # reconcile_after_seconds; messages Redis lost are found at the first tick 5 s after they were
    # queued or came due (workers.queue.ledger; reconcile_after_seconds without a ledger).
    tick_seconds: int = Field(default=10, ge=1)
    reconcile_after_seconds: int = Field(default=20, ge=0)


class LibreOfficeSettings(_Model):
    soffice: str = "soffice"
    # LibreOffice processes per worker process, each converting for whichever thread asks;
    # None → one for every 4 threads, at most MAX_DEFAULT_INSTANCES (each ~150 MB resident)
    instances: int | None = Field(default=None, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)  # one document; then it is restarted
    start_timeout_seconds: float = Field(default=120, gt=0)  # a (re)start, profile made afresh


class WebSettings(_Model):
    """`iro web`: cookies and sessions. The signing key comes only from IRO_WEB_SECRET_KEY."""

    secure_cookies: bool | None = None  # None → Secure unless served on localhost
    session_hours: int = Field(default=8, ge=1, le=24)
    # a session unused this long ends too (NCSC/OWASP session management: an idle timeout
    # beside the absolute one, for a browser left open on a shared office desk)
    idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or
    # networks); none → the connecting address is the client's, whatever a header says
    trusted_proxies: list[str] = []

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.5 or "
                                 "10.0.0.0/24); name each reverse proxy by its address") from None
        return [item.strip() for item in value]
    secret_key: SecretStr | None = None  # IRO_WEB_SECRET_KEY only; None → a new key per start
    # failed sign-ins allowed per account and per client address in the window, then wait
    sign_in_failures_per_account: int = Field(default=5, ge=1)
    sign_in_failures_per_address: int = Field(default=20, ge=1)
    sign_in_window_minutes: int = Field(default=15, ge=1)


class SurveySettings(_Model):
    """`iro survey`: where the one-time answer links point. Each link is HMAC(link_secret, a
    random salt kept with the invitation), so the store alone cannot make a working link."""

    public_url: str = "http://127.0.0.1:8000"  # the address people reach `iro web` at
    link_secret: SecretStr | None = None  # IRO_SURVEY_LINK_SECRET only


class OidcSettings(_Model):
    """OpenID Connect sign-in (Entra ID). No discovery_url → local accounts only."""

    discovery_url: str | None = None  # …/v2.0/.well-known/openid-configuration
    client_id: str | None = None
    redirect_url: str | None = None  # None → <this site>/auth/oidc/callback
    scopes: list[str] = ["openid", "profile", "email"]
    roles_claim: str = "roles"  # Entra app roles; "groups" for group ids
    role_map: dict[str, Literal["business_support", "iro", "manager"]] = {}  # claim value → role
    email_claims: list[str] = ["email", "preferred_username", "upn"]  # first present wins
    timeout_seconds: float = Field(default=10, gt=0)
    client_secret: SecretStr | None = None  # IRO_OIDC_CLIENT_SECRET only


class Settings(_Model):
    config_dir: Path = Field(default=Path("config"), exclude=True)  # set by the loader
    database_url: str = "sqlite:///var/iro.sqlite3"
    redis_url: str | None = None  # None → in-process queue
    transport: Literal["outbox", "smtp", "ews", "graph"] = "outbox"
    outbox_dir: Path = Path("var/outbox")
    documents_dir: Path = Path("var/documents")
    print_dir: Path = Path("var/print")
    templates_dir: Path = Path("templates_docx")
    runtime_dir: Path = Path("var/run")  # one private folder per process (workers.host.runtime_dir)
    mailbox: MailboxSettings = MailboxSettings()
    letterhead: LetterheadSettings = LetterheadSettings()
    post: PostSettings = PostSettings()
    email: EmailPolicy = EmailPolicy()
    smtp: SmtpSettings = SmtpSettings()
    ews: EwsSettings = EwsSettings()
    graph: GraphSettings = GraphSettings()
    imap: ImapSettings = ImapSettings()
    worker: WorkerSettings = WorkerSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    libreoffice: LibreOfficeSettings = LibreOfficeSettings()
    web: WebSettings = WebSettings()
    oidc: OidcSettings = OidcSettings()
    survey: SurveySettings = SurveySettings()

    @property
    def rate_limit_per_minute(self) -> int | None:
        """Messages a minute for the mailbox: the setting, else 30 for Exchange, else no limit."""
        if self.mailbox.rate_limit_per_minute is not None:
            return self.mailbox.rate_limit_per_minute
        return EXCHANGE_RATE_LIMIT if self.transport in ("ews", "graph") else None

    @property
    def converter_instances(self) -> int:
        """LibreOffice processes a worker process keeps: the setting, else one for every
        THREADS_PER_INSTANCE threads, at most MAX_DEFAULT_INSTANCES.

        Converting is CPU work in LibreOffice, one core each: with a process a core, a second
        instance per process bought no letters a second on 2 cores (benchmarks/pipeline.py) and
        cost 5–15% more LibreOffice CPU a letter; one keeps four threads' waits at a few seconds,
        well inside the time a letter is given (workers.queue.time_budget)."""
        if self.libreoffice.instances is not None:
            return self.libreoffice.instances
        return max(1, min(MAX_DEFAULT_INSTANCES, -(-self.worker.threads // THREADS_PER_INSTANCE)))


def env_name(path: tuple[str, ...]) -> str:
    return ENV_PREFIX + "_".join(path).upper()


def iter_leaves(
    model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every setting's dotted path and annotation, nested models flattened."""
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        path = (*prefix, name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from iter_leaves(annotation, path)
        else:
            yield path, annotation


def _is_secret(annotation: Any) -> bool:
    return SecretStr in typing.get_args(annotation) or annotation is SecretStr


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


SECRETS: tuple[tuple[str, ...], ...] = tuple(p for p, a in iter_leaves(Settings) if _is_secret(a))

# IRO_* variables that are not settings: the config folder, one-off command inputs and the test
# suite's and the benchmarks' own (IRO_TEST_*, IRO_BENCH_*).
OTHER_VARIABLES = frozenset({"IRO_CONFIG_DIR", "IRO_NEW_USER_PASSWORD", "IRO_ACTOR"})
OWN_PREFIXES = ("IRO_TEST_", "IRO_BENCH_")


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A message for each IRO_* variable that names no setting.

    Unknown keys in the files are errors; a mistyped variable (``IRO_DATABSE_URL``) would
    otherwise be ignored and the default used without a word, so ``iro config check`` says so.
    """
    known = {env_name(path) for path, _ in iter_leaves(Settings)} | OTHER_VARIABLES
    messages = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in known or name.startswith(OWN_PREFIXES):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {close[0]}?" if close else "the name is IRO_ + a service.yaml path"
        messages.append(f"environment {name}: names no setting and would be ignored; {hint}")
    return messages


def load_settings(config_dir: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``<config_dir>/service.yaml`` (optional) and apply IRO_* overrides from ``environ``."""
    env = os.environ if environ is None else environ
    source = read_yaml(config_dir / "service.yaml", required=False)
    problems = [
        source.problem(path, f"secrets come only from the environment: set {env_name(path)}")
        for path in SECRETS
        if path in source.lines
    ]
    if "config_dir" in source.data:
        problems.append(
            source.problem(("config_dir",), "set the folder with --config or IRO_CONFIG_DIR")
        )
    if problems:
        raise source.fail(problems)
    data, from_env = _with_env(source.data, env)
    data["config_dir"] = config_dir
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, source, from_env)) from None
    return _absolute_paths(settings)


def _with_env(
    data: dict[str, Any], env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Overlay the IRO_* variables; return the merged data and which variable set which path."""
    merged: dict[str, Any] = _deep_copy(data)
    used: dict[tuple[str, ...], str] = {}
    for path, annotation in iter_leaves(Settings):
        name = env_name(path)
        if name not in env:
            continue
        raw: Any = env[name]
        if _is_list(annotation):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        elif raw == "" and type(None) in typing.get_args(annotation):
            raw = None  # an empty variable clears an optional setting
        node = merged
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
            node[key] = child = dict(child)
            node = child
        node[path[-1]] = raw
        used[path] = name
    return merged, used


def _explain(exc: ValidationError, source: YamlSource, from_env: dict[tuple[str, ...], str]) -> str:
    """File:line for values from service.yaml; the variable's name for those from IRO_*."""
    lines: list[str] = []
    file_problems: list[Problem] = []
    for err, problem in zip(
        exc.errors(include_url=False), problems_from(exc, source, Settings), strict=True
    ):
        path = tuple(str(p) for p in err["loc"] if isinstance(p, str))
        var = from_env.get(path)
        if var:
            lines.append(f"environment {var}: {dotted(path)}: {problem.reason}")
        else:
            file_problems.append(problem)
    if file_problems:
        lines.insert(0, str(source.fail(file_problems)))
    return "\n".join(lines)


def _absolute_paths(settings: Settings) -> Settings:
    cwd = Path.cwd()
    updates = {
        name: cwd / value
        for name in ("outbox_dir", "documents_dir", "print_dir", "templates_dir", "runtime_dir")
        if not (value := getattr(settings, name)).is_absolute()
    }
    return settings.model_copy(update=updates) if updates else settings


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}
