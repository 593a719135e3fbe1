"""Opening the tracking store and migrating it.

SQLite (the embedded default) gets foreign keys, WAL and a busy timeout on every connection, so
worker threads and the scheduler can share one file; PostgreSQL gets ``pool_pre_ping`` so a
restarted server does not hand out dead connections. A database that cannot be reached becomes
one line (``ServiceUnavailableError``), never a traceback. Both hide statement parameters: an
``IntegrityError``'s text would otherwise quote the names and addresses being written into every
traceback a worker, the scheduler or ``--debug`` logs. Migrations are Alembic's, configured
in code so they run from an installed package with no ``alembic.ini``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from workers.errors import ConfigError, DatabaseUnavailableError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, ExceptionContext

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
PG_CONNECT_TIMEOUT_S = 5
PG_START_HINT = (
    "Start PostgreSQL (pg_ctlcluster --skip-systemctl-redirect <version> main start) "
    "or check IRO_DATABASE_URL"
)
SQLITE_HINT = "Check IRO_DATABASE_URL and that its folder is writable"
DEFAULT_SQLITE_FOLDER = Path("var")  # of the default sqlite:///var/iro.sqlite3, relative to cwd


def parse_url(url: str) -> URL:
    """The URL, with bare ``postgresql://`` meaning psycopg 3 (the driver we ship)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # never echo the text: it may hold a password
        raise ConfigError(
            "IRO_DATABASE_URL is not a database URL; expected e.g. sqlite:///var/iro.sqlite3 "
            "or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def display_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode and str(mode[0]).lower() == "wal":
            # safe with WAL: a power cut may lose the last commit, never corrupt the file
            cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_folder(parsed: URL) -> None:
    """Make the embedded default's ``var/`` folder; refuse any other folder that is missing.

    A mistyped path would otherwise leave an empty store in a new folder somewhere, and the
    next command would find no reviews there without a word.
    """
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().parent
    if folder.is_dir():
        return
    if folder.resolve() != DEFAULT_SQLITE_FOLDER.resolve():
        raise ConfigError(
            f"IRO_DATABASE_URL {display_url(parsed)}: folder {folder} does not exist; create it "
            "or correct the path (only the default var/ folder is made for you)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailableError(
            f"cannot reach the database at {display_url(parsed)}: cannot create folder "
            f"{folder}: {exc.strerror}. {SQLITE_HINT}"
        ) from None


def _sqlite_engine(parsed: URL) -> Engine:
    _sqlite_folder(parsed)
    engine = create_engine(
        parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, hide_parameters=True
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _drop_row_detail(context: ExceptionContext) -> None:
    """Cut PostgreSQL's ``DETAIL:`` line from the error's text before anyone formats it.

    ``hide_parameters`` does not reach it, and for a NOT NULL or CHECK violation it reads
    ``Failing row contains (…)``: the whole row, names and addresses included.
    """
    for exc in (context.original_exception, context.sqlalchemy_exception):
        if exc is not None and exc.args and "\nDETAIL:" in str(exc.args[0]):
            exc.args = (str(exc.args[0]).split("\nDETAIL:", 1)[0], *exc.args[1:])


def create_store_engine(url: str) -> Engine:
    """An engine for ``url``, checked by connecting once."""
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
            hint = SQLITE_HINT
        else:
            connect_args: dict[str, Any] = {}
            if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
                connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
            engine = create_engine(
                parsed, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True
            )
            event.listen(engine, "handle_error", _drop_row_detail)
            hint = PG_START_HINT
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            f"IRO_DATABASE_URL {display_url(parsed)}: unsupported database driver ({exc}); "
            "use sqlite:/// or postgresql+psycopg://"
        ) from None
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnavailableError(
            f"cannot reach the database at {display_url(parsed)}: {_reason(exc, parsed)}. {hint}"
        ) from None
    return engine


def _reason(exc: DBAPIError, parsed: URL) -> str:
    text = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
    if parsed.password:
        text = text.replace(str(parsed.password), "***")
    return text


def open_store(url: str) -> sessionmaker[Session]:
    """Sessions on the store at ``url``. Raises ServiceUnavailableError if it cannot be reached.

    ``expire_on_commit=False`` so objects stay readable after the caller commits (CLI summaries).
    """
    from workers.store.next_review import watch

    factory = sessionmaker(bind=create_store_engine(url), expire_on_commit=False)
    watch(factory)  # each child's stored next review marked stale when its inputs change
    return factory


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config built in code, pointing at the migrations shipped inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the newest)."""
    from alembic import command

    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the store is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped with this package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
