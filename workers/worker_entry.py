"""The module `iro worker` hands to dramatiq's CLI: it builds the broker from the settings.

This is the one module with side effects at import, on purpose: dramatiq's worker processes
import it to find their broker (``dramatiq workers.worker_entry``). Nothing else imports it.
The settings folder comes from IRO_CONFIG_DIR, which `iro --config DIR worker` sets.
"""

from __future__ import annotations

import dramatiq

from workers import actors
from workers.broker import make_broker
from workers.cli.context import default_config_dir
from workers.settings import load_settings


class CloseLibreOffice(dramatiq.Middleware):
    """Close this process's warm LibreOffice (and its profile folder) when its worker stops:
    dramatiq's worker processes end with ``os._exit``, so atexit handlers never run in them."""

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from workers.mailout.documents import close_pdf

        close_pdf()


settings = load_settings(default_config_dir())
broker = make_broker(settings)
broker.add_middleware(CloseLibreOffice())
dramatiq.set_broker(broker)
actors.declare(broker)
actors.use(lambda: actors.build_dispatcher(settings))
