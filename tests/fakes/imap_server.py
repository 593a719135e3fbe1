"""A small IMAP4rev1 server on a local port, enough for imaplib (RFC 3501, MOVE RFC 6851, UIDPLUS
RFC 4315): CAPABILITY, LOGIN, SELECT/EXAMINE (with UIDVALIDITY), CREATE, LIST, UID SEARCH, UID FETCH
(BODY[], BODY.PEEK[], RFC822, FLAGS, INTERNALDATE), UID STORE, UID COPY, UID MOVE, EXPUNGE,
UID EXPUNGE, NOOP, LOGOUT. Plain text only; ``move=False`` leaves MOVE out of the capabilities so
a client must COPY, flag \\Deleted and expunge.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\([^)]*\))|(\S+)')


@dataclass
class ImapMessage:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)
    internaldate: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class ImapFolder:
    name: str
    uidvalidity: int
    uidnext: int = 1
    messages: list[ImapMessage] = field(default_factory=list)

    def add(self, message: ImapMessage) -> ImapMessage:
        message.uid = self.uidnext
        self.uidnext += 1
        self.messages.append(message)
        return message


class FakeImapServer:
    def __init__(self, username: str = "iro.service", password: str = "imap-s3cret",
                 move: bool = True) -> None:
        self.username, self.password, self.move = username, password, move
        self._validity = itertools.count(1000)
        self.folders: dict[str, ImapFolder] = {}
        self.folder("INBOX")
        self.commands: list[str] = []  # command names, UID ones as "UID MOVE"
        self.lock = threading.Lock()
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                _Session(server, self.rfile, self.wfile).run()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._tcp.daemon_threads = True
        self.port = self._tcp.server_address[1]
        self._thread = threading.Thread(target=self._tcp.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FakeImapServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._tcp.shutdown()
        self._tcp.server_close()

    def folder(self, name: str) -> ImapFolder:
        key = "INBOX" if name.upper() == "INBOX" else name
        if key not in self.folders:
            self.folders[key] = ImapFolder(key, next(self._validity))
        return self.folders[key]

    def deliver(self, raw: bytes, when: dt.datetime | None = None) -> ImapMessage:
        with self.lock:
            return self.folder("INBOX").add(
                ImapMessage(0, raw, internaldate=when or dt.datetime.now(dt.UTC)))

    def reset_uidvalidity(self) -> None:
        """As after a mailbox rebuild: every UID in the inbox is new."""
        with self.lock:
            inbox = self.folder("INBOX")
            inbox.uidvalidity = next(self._validity)


class _Session:
    def __init__(self, server: FakeImapServer, rfile: Any, wfile: Any) -> None:
        self.server, self.rfile, self.wfile = server, rfile, wfile
        self.user: str | None = None
        self.selected: ImapFolder | None = None

    def send(self, line: bytes | str) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def run(self) -> None:
        self.send("* OK fake IMAP4rev1 ready")
        while line := self.rfile.readline():
            parts = line.rstrip(b"\r\n").split(b" ", 2)
            if len(parts) < 2:
                self.send("* BAD no command")
                continue
            tag, command = parts[0].decode(), parts[1].decode().upper()
            args = [next(g for g in m.groups() if g is not None).decode()
                    for m in _TOKEN.finditer(parts[2] if len(parts) > 2 else b"")]
            if command == "UID" and args:
                command, args = f"UID {args[0].upper()}", args[1:]
            with self.server.lock:
                self.server.commands.append(command)
                reply = self.dispatch(command, args)
            self.send(f"{tag} {reply}")
            if command == "LOGOUT":
                return

    def dispatch(self, command: str, args: list[str]) -> str:
        if command == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1 UIDPLUS" + (" MOVE" if self.server.move else ""))
            return "OK CAPABILITY completed"
        if command == "NOOP":
            return "OK NOOP completed"
        if command == "LOGOUT":
            self.send("* BYE logging out")
            return "OK LOGOUT completed"
        if command == "LOGIN":
            if args[:2] != [self.server.username, self.server.password]:
                return "NO [AUTHENTICATIONFAILED] Invalid credentials"
            self.user = args[0]
            return "OK LOGIN completed"
        if self.user is None:
            return "BAD log in first"
        handler = getattr(self, "cmd_" + command.lower().replace(" ", "_"), None)
        if handler is None or (command.startswith("UID") and self.selected is None):
            return f"BAD {command} not supported here"
        result: str = handler(args)
        return result

    # -- authenticated state -------------------------------------------------------------------

    def cmd_select(self, args: list[str], readonly: bool = False) -> str:
        name = args[0]
        if name.upper() != "INBOX" and name not in self.server.folders:
            return "NO [NONEXISTENT] no such mailbox"
        folder = self.selected = self.server.folder(name)
        self.send(r"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)")
        self.send(f"* {len(folder.messages)} EXISTS")
        self.send("* 0 RECENT")
        self.send(f"* OK [UIDVALIDITY {folder.uidvalidity}] UIDs valid")
        self.send(f"* OK [UIDNEXT {folder.uidnext}] predicted next UID")
        return f"OK [{'READ-ONLY' if readonly else 'READ-WRITE'}] SELECT completed"

    def cmd_examine(self, args: list[str]) -> str:
        return self.cmd_select(args, readonly=True)

    def cmd_create(self, args: list[str]) -> str:
        if args[0] in self.server.folders or args[0].upper() == "INBOX":
            return "NO [ALREADYEXISTS] mailbox exists"
        self.server.folder(args[0])
        return "OK CREATE completed"

    def cmd_list(self, args: list[str]) -> str:
        pattern = re.escape(args[1]).replace(r"\*", ".*").replace("%", "[^/]*")
        for name in self.server.folders:
            if re.fullmatch(pattern, name, re.IGNORECASE if name == "INBOX" else 0):
                self.send(f'* LIST (\\HasNoChildren) "/" "{name}"')
        return "OK LIST completed"

    def cmd_expunge(self, args: list[str], only: set[int] | None = None) -> str:
        assert self.selected is not None
        for seq in range(len(self.selected.messages), 0, -1):
            m = self.selected.messages[seq - 1]
            if "\\Deleted" in m.flags and (only is None or m.uid in only):
                del self.selected.messages[seq - 1]
                self.send(f"* {seq} EXPUNGE")
        return "OK EXPUNGE completed"

    # -- UID commands --------------------------------------------------------------------------

    def _uids(self, spec: str) -> list[tuple[int, ImapMessage]]:
        assert self.selected is not None
        messages = self.selected.messages
        top = messages[-1].uid if messages else 0
        wanted: set[int] = set()
        for part in spec.split(","):
            lo, _, hi = part.partition(":")
            a = top if lo == "*" else int(lo)
            b = a if not hi else (top if hi == "*" else int(hi))
            wanted.update(range(min(a, b), max(a, b) + 1))  # n:* includes the top UID (RFC 3501)
        return [(seq, m) for seq, m in enumerate(messages, 1) if m.uid in wanted]

    def cmd_uid_search(self, args: list[str]) -> str:
        assert self.selected is not None
        found = [m.uid for m in self.selected.messages]
        if len(args) >= 2 and args[0].upper() == "UID":
            found = [m.uid for _, m in self._uids(args[1])]
        elif args != ["ALL"]:
            return "BAD only ALL and UID searches here"
        self.send("* SEARCH" + "".join(f" {u}" for u in found))
        return "OK SEARCH completed"

    def cmd_uid_fetch(self, args: list[str]) -> str:
        items = " ".join(args[1:]).upper()
        for seq, m in self._uids(args[0]):
            out = [f"UID {m.uid}"]
            if "FLAGS" in items:
                out.append(f"FLAGS ({' '.join(sorted(m.flags))})")
            if "INTERNALDATE" in items:
                out.append(f'INTERNALDATE "{m.internaldate:%d-%b-%Y %H:%M:%S %z}"')
            literal = None
            if "BODY.PEEK[]" in items or "BODY[]" in items or "RFC822" in items:
                name = "RFC822" if "RFC822" in items else "BODY[]"
                literal = m.raw
                if "PEEK" not in items:
                    m.flags.add("\\Seen")
                out.append(f"{name} {{{len(m.raw)}}}")
            head = f"* {seq} FETCH (" + " ".join(out)
            if literal is None:
                self.send(head + ")")
            else:
                self.wfile.write(head.encode() + b"\r\n" + literal)
                self.send(")")
        return "OK FETCH completed"

    def cmd_uid_store(self, args: list[str]) -> str:
        flags = set(args[2].strip("()").split())
        for seq, m in self._uids(args[0]):
            if args[1].upper().startswith("+FLAGS"):
                m.flags |= flags
            elif args[1].upper().startswith("-FLAGS"):
                m.flags -= flags
            else:
                m.flags = set(flags)
            if not args[1].upper().endswith(".SILENT"):
                self.send(f"* {seq} FETCH (UID {m.uid} FLAGS ({' '.join(sorted(m.flags))}))")
        return "OK STORE completed"

    def cmd_uid_copy(self, args: list[str]) -> str:
        if args[1] not in self.server.folders:
            return "NO [TRYCREATE] no such mailbox"
        target = self.server.folders[args[1]]
        for _, m in self._uids(args[0]):
            target.add(ImapMessage(0, m.raw, set(m.flags) - {"\\Deleted"}, m.internaldate))
        return "OK COPY completed"

    def cmd_uid_move(self, args: list[str]) -> str:
        if not self.server.move:
            return "BAD MOVE not supported"
        moved = {m.uid for _, m in self._uids(args[0])}
        result = self.cmd_uid_copy(args)
        if not result.startswith("OK"):
            return result
        for _, m in self._uids(args[0]):
            m.flags.add("\\Deleted")
        self.cmd_expunge([], only=moved)
        return "OK MOVE completed"

    def cmd_uid_expunge(self, args: list[str]) -> str:
        return self.cmd_expunge([], only={m.uid for _, m in self._uids(args[0])})


@pytest.fixture
def imap_server() -> Iterator[FakeImapServer]:
    server = FakeImapServer().start()
    try:
        yield server
    finally:
        server.stop()
