"""The inbox behind the fake Graph endpoint: delta query, attachments, move, child folders.

Delta works like the service's: a first round pages through the inbox (two messages a page, so
``@odata.nextLink`` is followed) and ends with ``@odata.deltaLink``; the link's token is a position
in a change log, so a later round returns what arrived since and ``@removed`` rows for messages
moved out. Used by tests/fakes/graph_server.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

PAGE = 2
Reply = tuple[int, dict[str, str], Any]


@dataclass
class GraphAttachment:
    name: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass
class GraphInboxMessage:
    id: str
    folder: str
    subject: str = ""
    body: str = ""
    body_type: str = "text"
    sender: str = "someone@example.net"
    message_id: str = ""
    item_class: str = "IPM.Note"
    attachments: list[GraphAttachment] = field(default_factory=list)
    received: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    seq: int = 0  # position in the change log when it arrived in its folder
    headers: dict[str, str] = field(default_factory=dict)  # internetMessageHeaders (In-Reply-To…)

    def json(self, with_class: bool) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject,
            "body": {"contentType": self.body_type, "content": self.body},
            "from": {"emailAddress": {"name": "Someone", "address": self.sender}},
            "internetMessageId": self.message_id,
            "receivedDateTime": self.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sentDateTime": self.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "hasAttachments": bool(self.attachments),
        }
        if with_class:  # as Graph spells a MAPI tag property it returns: lower-case hex
            doc["singleValueExtendedProperties"] = [{"id": "String 0x1a", "value": self.item_class}]
        return doc


class GraphMailbox:
    def __init__(self) -> None:
        self.messages: dict[str, GraphInboxMessage] = {}
        self.folders: dict[str, str] = {"inbox": "Inbox"}  # id → displayName (children of inbox)
        self.removed: list[tuple[int, str]] = []  # (seq, id) moved out of the inbox
        self.moves = 0
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)

    def deliver(self, **fields: Any) -> GraphInboxMessage:
        message = GraphInboxMessage(id=f"msg-{next(self._ids)}", folder="inbox", **fields)
        message.seq = next(self._seq)
        self.messages[message.id] = message
        return message

    def in_folder(self, name: str) -> list[GraphInboxMessage]:
        ids = [i for i, n in self.folders.items() if n.lower() == name.lower()]
        return sorted((m for m in self.messages.values() if m.folder in ids), key=lambda m: m.seq)

    # -- requests ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], doc: Any,
               base: str) -> Reply | None:
        if method == "GET" and path == "/mailFolders/inbox/messages/delta":
            return self._delta(query, base)
        if path == "/mailFolders/inbox/childFolders":
            if method == "POST":
                name = str(doc["displayName"])
                if name.lower() in (n.lower() for n in self.folders.values()):
                    return 409, {}, {"error": {"code": "ErrorFolderExists", "message": "exists"}}
                folder_id = f"folder-{next(self._ids)}"
                self.folders[folder_id] = name
                return 201, {}, {"id": folder_id, "displayName": name}
            wanted = re.fullmatch(r"displayName eq '((?:[^']|'')*)'",
                                  query.get("$filter", [""])[0])
            assert wanted, f"fake Graph: unsupported childFolders query {query!r}"
            name = wanted.group(1).replace("''", "'")
            found = [{"id": i, "displayName": n} for i, n in self.folders.items()
                     if n == name and i != "inbox"]
            return 200, {}, {"value": found}
        single = re.fullmatch(r"/messages/([^/]+)", path)
        if method == "GET" and single and single.group(1) in self.messages:
            assert query.get("$select") == ["internetMessageHeaders"], query
            return 200, {}, {"id": single.group(1), "internetMessageHeaders": [
                {"name": k, "value": v} for k, v in self.messages[single.group(1)].headers.items()]}
        match = re.fullmatch(r"/messages/([^/]+)/(attachments|move)", path)
        if match is None or match.group(1) not in self.messages:
            return None
        message = self.messages[match.group(1)]
        if method == "GET" and match.group(2) == "attachments":
            return 200, {}, {"value": [{
                "@odata.type": "#microsoft.graph.fileAttachment", "id": f"att-{n}",
                "name": a.name, "contentType": a.content_type, "size": len(a.content),
                "contentBytes": base64.b64encode(a.content).decode("ascii"),
            } for n, a in enumerate(message.attachments)]}
        if method == "POST" and match.group(2) == "move":
            destination = str(doc["destinationId"])
            if destination not in self.folders:
                return 404, {}, {"error": {"code": "ErrorItemNotFound", "message": "no folder"}}
            # A move gives the message a new id, as in Exchange.
            del self.messages[message.id]
            if message.folder == "inbox":
                self.removed.append((next(self._seq), message.id))
            message.id, message.folder = f"msg-{next(self._ids)}", destination
            message.seq = next(self._seq)
            self.messages[message.id] = message
            self.moves += 1
            return 201, {}, {"id": message.id}
        return None

    def _delta(self, query: dict[str, list[str]], base: str) -> Reply:
        with_class = "0X001A" in query.get("$expand", [""])[0].upper()
        token = query.get("$deltatoken", query.get("$skiptoken", ["0:0"]))[0]
        since, offset = (int(p) for p in token.split(":"))
        changed: list[dict[str, Any]] = [
            m.json(with_class) for m in self.in_folder("Inbox") if m.seq > since]
        changed += [{"id": i, "@removed": {"reason": "deleted"}}
                    for seq, i in self.removed if seq > since]
        page = changed[offset:offset + PAGE]
        link = f"{base}/mailFolders/inbox/messages/delta"
        expand = "&$expand=" + quote(query["$expand"][0]) if "$expand" in query else ""
        if offset + PAGE < len(changed):
            next_link = f"{link}?$skiptoken={since}:{offset + PAGE}{expand}"
            return 200, {}, {"value": page, "@odata.nextLink": next_link}
        now = max([since, *(m.seq for m in self.messages.values()),
                   *(s for s, _ in self.removed)])
        return 200, {}, {"value": page, "@odata.deltaLink": f"{link}?$deltatoken={now}:0{expand}"}
