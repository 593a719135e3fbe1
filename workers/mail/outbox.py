"""The embedded default transport: each message is an .eml file in a folder.

Files are named ``<key-hash>.eml`` and written atomically (a temp file in the same folder, fsync,
rename), so a crash never leaves half a message and a second send of the same dispatch replaces
the file rather than adding one.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.errors import TransientDeliveryError
from workers.host.private_files import make_private_dir
from workers.mail.message import OutgoingMessage, loggable_key
from workers.mail.mime import build_mime, key_hash, message_id_for


@dataclass(frozen=True)
class OutboxConfig:
    directory: Path
    mailbox: str
    display_name: str = ""
    reply_to: str | None = None


class OutboxTransport:
    name = "outbox"

    def __init__(self, config: OutboxConfig, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.mailbox = config.mailbox
        self.clock = clock  # the Date header

    def path_for(self, dispatch_key: str) -> Path:
        return self.config.directory / f"{key_hash(dispatch_key)}.eml"

    def send(self, message: OutgoingMessage) -> str:
        mime = build_mime(
            message,
            sender=self.config.mailbox,
            display_name=self.config.display_name,
            reply_to=self.config.reply_to,
            date=self.clock.now(),
        )
        target = self.path_for(message.dispatch_key)
        try:
            make_private_dir(target.parent)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".eml")  # 0600
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(mime.as_bytes())
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TransientDeliveryError(
                f"dispatch {loggable_key(message.dispatch_key)}: cannot write to the outbox "
                "folder "
                f"{self.config.directory} ({exc.strerror or type(exc).__name__}); "
                "check it exists and is writable (IRO_OUTBOX_DIR)"
            ) from exc
        return str(mime["Message-ID"])

    def find_sent(self, dispatch_key: str) -> str | None:
        if self.path_for(dispatch_key).exists():
            return message_id_for(dispatch_key, self.config.mailbox)
        return None

    def close(self) -> None:
        return None
