"""A small EWS endpoint over HTTP that speaks enough SOAP for exchangelib itself.

Operations: GetFolder, FindFolder, CreateItem (SaveOnly / SendOnly / SendAndSaveCopy), FindItem
(with restrictions on fields and extended properties), GetItem, GetAttachment, SyncFolderItems,
UpdateItem, MoveItem. Every response carries ``h:ServerVersionInfo``. Basic auth is checked.

Tests can queue faults: ``server.fail_next("ErrorServerBusy", back_off_ms=5000)``,
``server.fail_next("ErrorInvalidRecipients")`` (also ErrorMessageSizeExceeded, ErrorSendAsDenied,
any EWS response code) or ``server.fail_next(http_status=401)`` — with ``after_doing=True`` the
request is carried out first (the message goes) and only the answer fails, as when a response is
lost on its way back; and seed the inbox with
``server.deliver(...)``. Sent messages are in ``server.sent`` and the Sent Items folder. Every
request's arrival is in ``server.arrivals`` and every ErrorServerBusy answer in ``server.busy_at``
(``time.monotonic()``, the server's own clock).

    def test_x(ews_server):
        cfg = EwsConfig(endpoint=ews_server.url, auth="basic",
                        username=ews_server.username, password=ews_server.password, ...)
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from fakes.ews_mailbox import (
    FakeItem,
    FakeMailbox,
    T,
    apply_fields,
    folder_xml,
    item_id_xml,
    item_xml,
    matches,
    new_id,
    t,
    text_of,
)

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"


def m(name: str) -> str:
    return f"{{{M}}}{name}"


@dataclass
class Fault:
    code: str | None = None
    back_off_ms: int | None = None
    http_status: int | None = None
    operation: str | None = None  # None: the next request of any kind
    after_doing: bool = False  # carry the request out, then answer with the fault


class Reply(Exception):
    """Raised inside an operation to answer with an error response message."""

    def __init__(self, code: str, text: str = "") -> None:
        self.code, self.text = code, text or code


class FakeEwsServer:
    def __init__(self, mailbox: str = "iro.service@council.example.gov.uk") -> None:
        self.mailbox = FakeMailbox(mailbox)
        self.username, self.password = "svc-iro", "ews-s3cret"
        self.faults: list[Fault] = []
        self.requests: list[str] = []  # operation names, in order
        self.arrivals: list[tuple[float, str]] = []  # (when, operation)
        self.busy_at: list[tuple[float, float]] = []  # (when answered, back-off seconds asked)
        self.sent: list[FakeItem] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/EWS/Exchange.asmx"

    def start(self) -> FakeEwsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- what tests call ---------------------------------------------------------------------

    def fail_next(
        self,
        code: str | None = None,
        *,
        back_off_ms: int | None = None,
        http_status: int | None = None,
        operation: str | None = None,
        times: int = 1,
        after_doing: bool = False,
    ) -> None:
        self.faults.extend(Fault(code, back_off_ms, http_status, operation, after_doing)
                           for _ in range(times))

    def deliver(self, **fields: Any) -> FakeItem:
        """Put a message in the inbox, as if received (fields of FakeItem)."""
        inbox = self.mailbox.by_distinguished("inbox")
        return self.mailbox.add(FakeItem(id=new_id(), folder_id=inbox.id, **fields))

    def folder_items(self, name: str) -> list[FakeItem]:
        return self.mailbox.items_in(self.mailbox.folder_named(name).id)

    # -- HTTP ----------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = (
                "HTTP/1.1"  # keep-alive: exchangelib reads "Connection: close" as busy
            )

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, payload = server.handle(self.headers.get("Authorization", ""), body)
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="fake-ews"')
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def handle(self, authorization: str, body: bytes) -> tuple[int, bytes]:
        envelope = etree.fromstring(body)
        version_elem = envelope.find(f"{{{SOAP}}}Header/{t('RequestServerVersion')}")
        api_version = version_elem.get("Version") if version_elem is not None else "Exchange2016"
        request = envelope.find(f"{{{SOAP}}}Body")[0]  # type: ignore[index]
        operation = etree.QName(request).localname
        self.requests.append(operation)
        self.arrivals.append((time.monotonic(), operation))
        fault = self._take_fault(operation)
        if fault and fault.http_status and not fault.after_doing:
            return fault.http_status, b""
        if not self._authorized(authorization):
            return 401, b""
        if fault and fault.code == "ErrorServerBusy":
            self.busy_at.append((time.monotonic(), (fault.back_off_ms or 1000) / 1000))
            return 500, envelope_xml(api_version, busy_fault(fault.back_off_ms or 1000))
        handler: Callable[[etree._Element], list[str]] = getattr(self, f"op_{operation}", None)  # type: ignore[assignment]
        if handler is None:
            raise NotImplementedError(f"fake EWS: {operation} is not supported")
        with self.mailbox.lock:
            if fault and fault.code and not fault.after_doing:
                messages = [error_message(operation, fault.code, fault.code)]
            else:
                messages = handler(request)
        if fault and fault.after_doing:  # done, but the answer is lost or fails
            if fault.http_status:
                return fault.http_status, b""
            messages = [error_message(operation, fault.code or "ErrorInternalServerError")]
        body_xml = (
            f'<m:{operation}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
            f"{''.join(messages)}</m:ResponseMessages></m:{operation}Response>"
        )
        return 200, envelope_xml(api_version, body_xml)

    def _take_fault(self, operation: str) -> Fault | None:
        for i, fault in enumerate(self.faults):
            if fault.operation in (None, operation):
                return self.faults.pop(i)
        return None

    def _authorized(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    # -- operations: each returns the ResponseMessage elements -------------------------------

    def _folder_ids(self, container: etree._Element | None) -> list[str]:
        ids = []
        for elem in kids(container):
            if etree.QName(elem).localname == "DistinguishedFolderId":
                # a folder this mailbox lacks (exchangelib probes e.g. junkemail): not found
                dist = elem.get("Id") or ""
                known = {f.distinguished: f.id for f in self.mailbox.folders.values()}
                ids.append(known.get(dist, f"missing:{dist}"))
            else:
                ids.append(elem.get("Id") or "")
        return ids

    def op_GetFolder(self, req: etree._Element) -> list[str]:  # noqa: N802
        out = []
        for folder_id in self._folder_ids(req.find(m("FolderIds"))):
            folder = self.mailbox.folders.get(folder_id)
            if folder is None:
                out.append(error_message("GetFolder", "ErrorFolderNotFound"))
                continue
            out.append(
                ok("GetFolder", f"<m:Folders>{folder_xml(self.mailbox, folder)}</m:Folders>")
            )
        return out

    def op_FindFolder(self, req: etree._Element) -> list[str]:  # noqa: N802
        deep = req.get("Traversal") == "Deep"
        out = []
        for parent in self._folder_ids(req.find(m("ParentFolderIds"))):
            found = self._descendants(parent, deep)
            xml = "".join(folder_xml(self.mailbox, f) for f in found)
            out.append(
                ok(
                    "FindFolder",
                    f'<m:RootFolder TotalItemsInView="{len(found)}" IncludesLastItemInRange="true">'
                    f"<t:Folders>{xml}</t:Folders></m:RootFolder>",
                )
            )
        return out

    def _descendants(self, parent: str, deep: bool) -> list[Any]:
        found = []
        for f in self.mailbox.folders.values():
            if f.parent_id == parent:
                found.append(f)
                if deep:
                    found.extend(self._descendants(f.id, deep))
        return found

    def op_CreateItem(self, req: etree._Element) -> list[str]:  # noqa: N802
        disposition = req.get("MessageDisposition", "SaveOnly")
        target = self._folder_ids(req.find(m("SavedItemFolderId")))
        default = "sentitems" if disposition == "SendAndSaveCopy" else "drafts"
        folder_id = target[0] if target else self.mailbox.by_distinguished(default).id
        out = []
        for elem in kids(req.find(m("Items"))):
            item = FakeItem(id=new_id(), folder_id=folder_id, author=self.mailbox.address)
            apply_fields(item, elem)
            if disposition in ("SendOnly", "SendAndSaveCopy"):
                item.is_read = True
                self.sent.append(item)
            if disposition == "SendOnly":
                out.append(ok("CreateItem", "<m:Items/>"))
                continue
            self.mailbox.add(item)
            items = "" if disposition == "SendAndSaveCopy" else item_xml(item, id_only=True)
            out.append(ok("CreateItem", f"<m:Items>{items}</m:Items>"))
        return out

    def op_FindItem(self, req: etree._Element) -> list[str]:  # noqa: N802
        restriction = req.find(m("Restriction"))
        shape = req.find(f"{m('ItemShape')}/{t('BaseShape')}")
        id_only = (
            shape is not None
            and shape.text == "IdOnly"
            and req.find(f"{m('ItemShape')}/{t('AdditionalProperties')}") is None
        )
        paging = req.find(m("IndexedPageItemView"))
        limit = int(paging.get("MaxEntriesReturned", "1000")) if paging is not None else 1000
        offset = int(paging.get("Offset", "0")) if paging is not None else 0
        out = []
        for folder_id in self._folder_ids(req.find(m("ParentFolderIds"))):
            hits = [i for i in self.mailbox.items_in(folder_id) if matches(i, restriction)]
            page = hits[offset : offset + limit]
            last = offset + len(page) >= len(hits)
            xml = "".join(item_xml(i, id_only) for i in page)
            out.append(
                ok(
                    "FindItem",
                    f'<m:RootFolder IndexedPagingOffset="{offset + len(page)}" '
                    f'TotalItemsInView="{len(hits)}" IncludesLastItemInRange="{str(last).lower()}">'
                    f"<t:Items>{xml}</t:Items></m:RootFolder>",
                )
            )
        return out

    def op_GetItem(self, req: etree._Element) -> list[str]:  # noqa: N802
        out = []
        for ref in kids(req.find(m("ItemIds"))):
            item = self.mailbox.items.get(ref.get("Id") or "")
            if item is None:
                out.append(error_message("GetItem", "ErrorItemNotFound"))
            else:
                out.append(ok("GetItem", f"<m:Items>{item_xml(item)}</m:Items>"))
        return out

    def op_GetAttachment(self, req: etree._Element) -> list[str]:  # noqa: N802
        by_id = {a.id: a for i in self.mailbox.items.values() for a in i.attachments}
        out = []
        for ref in kids(req.find(m("AttachmentIds"))):
            att = by_id.get(ref.get("Id") or "")
            if att is None:
                out.append(error_message("GetAttachment", "ErrorItemNotFound"))
                continue
            content = base64.b64encode(att.content).decode()
            out.append(
                ok(
                    "GetAttachment",
                    f'<m:Attachments><t:FileAttachment><t:AttachmentId Id="{att.id}"/>'
                    f"<t:Name>{escape(att.name)}</t:Name>"
                    f"<t:ContentType>{escape(att.content_type)}</t:ContentType>"
                    f"<t:Content>{content}</t:Content></t:FileAttachment></m:Attachments>",
                )
            )
        return out

    def op_SyncFolderItems(self, req: etree._Element) -> list[str]:  # noqa: N802
        (folder_id,) = self._folder_ids(req.find(m("SyncFolderId")))
        since = int(text_of(req, "SyncState") or req.findtext(m("SyncState")) or 0)
        limit = int(req.findtext(m("MaxChangesReturned")) or 100)
        events = [e for e in self.mailbox.log if e[1] == folder_id and e[0] > since]
        page = events[:limit]
        latest = {item_id: kind for _, _, kind, item_id in page}  # one change per item, as EWS
        changes = []
        for item_id, kind in latest.items():
            item = self.mailbox.items.get(item_id)
            if kind == "Delete" or item is None:
                changes.append(f'<t:Delete><t:ItemId Id="{item_id}" ChangeKey="CK0"/></t:Delete>')
            else:
                changes.append(f"<t:{kind}>{item_xml(item)}</t:{kind}>")
        state = page[-1][0] if page else since
        last = len(page) == len(events)
        return [
            ok(
                "SyncFolderItems",
                f"<m:SyncState>{state}</m:SyncState>"
                f"<m:IncludesLastItemInRange>{str(last).lower()}</m:IncludesLastItemInRange>"
                f"<m:Changes>{''.join(changes)}</m:Changes>",
            )
        ]

    def op_UpdateItem(self, req: etree._Element) -> list[str]:  # noqa: N802
        out = []
        for change in kids(req.find(m("ItemChanges"))):
            ref = change.find(t("ItemId"))
            item = self.mailbox.items.get(ref.get("Id") if ref is not None else "")  # type: ignore[arg-type]
            if item is None:
                out.append(error_message("UpdateItem", "ErrorItemNotFound"))
                continue
            for update in kids(change.find(t("Updates"))):
                if etree.QName(update).localname == "SetItemField":
                    apply_fields(item, update.find(t("Message")))  # type: ignore[arg-type]
            item.version += 1
            self.mailbox.record(item.folder_id, "Update", item.id)
            out.append(
                ok(
                    "UpdateItem",
                    f"<m:Items>{item_xml(item, id_only=True)}</m:Items>"
                    "<m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>",
                )
            )
        return out

    def op_MoveItem(self, req: etree._Element) -> list[str]:  # noqa: N802
        (target,) = self._folder_ids(req.find(m("ToFolderId")))
        out = []
        for ref in kids(req.find(m("ItemIds"))):
            item_id = ref.get("Id") or ""
            if item_id not in self.mailbox.items:
                out.append(error_message("MoveItem", "ErrorItemNotFound"))
                continue
            moved = self.mailbox.move(item_id, target)
            out.append(
                ok("MoveItem", f"<m:Items><t:Message>{item_id_xml(moved)}</t:Message></m:Items>")
            )
        return out


def kids(elem: etree._Element | None) -> list[etree._Element]:
    return [] if elem is None else list(elem)


def ok(operation: str, inner: str) -> str:
    return (
        f'<m:{operation}ResponseMessage ResponseClass="Success">'
        f"<m:ResponseCode>NoError</m:ResponseCode>{inner}</m:{operation}ResponseMessage>"
    )


def error_message(operation: str, code: str, text: str = "") -> str:
    return (
        f'<m:{operation}ResponseMessage ResponseClass="Error">'
        f"<m:MessageText>{escape(text or code)}</m:MessageText>"
        f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
        f"</m:{operation}ResponseMessage>"
    )


def busy_fault(back_off_ms: int) -> str:
    return (
        f'<s:Fault><faultcode xmlns:a="{T}">a:ErrorServerBusy</faultcode>'
        '<faultstring xml:lang="en-US">The server cannot service this request now.</faultstring>'
        f'<detail><e:ResponseCode xmlns:e="{E}">ErrorServerBusy</e:ResponseCode>'
        f'<e:Message xmlns:e="{E}">The server cannot service this request right now.</e:Message>'
        f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value>'
        "</t:MessageXml></detail></s:Fault>"
    )


def envelope_xml(api_version: str | None, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{SOAP}"><s:Header>'
        f'<h:ServerVersionInfo xmlns:h="{T}" MajorVersion="15" MinorVersion="1" '
        f'MajorBuildNumber="2507" MinorBuildNumber="6" Version="{api_version or "Exchange2016"}"/>'
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


@pytest.fixture
def ews_server() -> Iterator[FakeEwsServer]:
    server = FakeEwsServer().start()
    try:
        yield server
    finally:
        server.stop()
