"""The state behind the fake EWS endpoint: folders, items, a change log for SyncFolderItems,
and how items look as EWS XML. Used by tests/fakes/ews_server.py."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import threading
import uuid
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

T = "http://schemas.microsoft.com/exchange/services/2006/types"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"


def t(name: str) -> str:
    return f"{{{T}}}{name}"


@dataclass
class FakeAttachment:
    id: str
    name: str
    content_type: str
    content: bytes


@dataclass
class FakeItem:
    id: str
    folder_id: str
    subject: str = ""
    body: str = ""
    body_type: str = "Text"
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    author: str = ""
    message_id: str = ""
    in_reply_to: str = ""  # item:InReplyTo, as Exchange keeps a reply's header
    references: str = ""  # message:References
    item_class: str = "IPM.Note"
    is_read: bool = False
    extended: dict[tuple[str, str], str] = field(default_factory=dict)  # (set id, name) → value
    attachments: list[FakeAttachment] = field(default_factory=list)
    received: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    version: int = 1

    @property
    def changekey(self) -> str:
        return f"CK{self.version}"

    def extended_value(self, name: str) -> str | None:
        for (_, prop_name), value in self.extended.items():
            if prop_name == name:
                return value
        return None


@dataclass
class FakeFolder:
    id: str
    name: str
    parent_id: str | None
    distinguished: str | None = None
    folder_class: str = "IPF.Note"


class FakeMailbox:
    """One mailbox: the distinguished folders, a 'Processed' folder under the inbox, items."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.lock = threading.RLock()
        self.folders: dict[str, FakeFolder] = {}
        self.items: dict[str, FakeItem] = {}
        self.log: list[tuple[int, str, str, str]] = []  # (seq, folder id, kind, item id)
        self._seq = itertools.count(1)
        root = self._folder("root", None, "root", folder_class="")
        top = self._folder("Top of Information Store", root.id, "msgfolderroot")
        for name, dist in [
            ("Inbox", "inbox"),
            ("Sent Items", "sentitems"),
            ("Drafts", "drafts"),
            ("Outbox", "outbox"),
            ("Deleted Items", "deleteditems"),
        ]:
            self._folder(name, top.id, dist)
        self._folder("Processed", self.by_distinguished("inbox").id, None)

    def _folder(
        self, name: str, parent: str | None, dist: str | None, folder_class: str = "IPF.Note"
    ) -> FakeFolder:
        folder = FakeFolder(f"F-{uuid.uuid4().hex}", name, parent, dist, folder_class)
        self.folders[folder.id] = folder
        return folder

    def by_distinguished(self, dist: str) -> FakeFolder:
        return next(f for f in self.folders.values() if f.distinguished == dist)

    def folder_named(self, name: str) -> FakeFolder:
        return next(f for f in self.folders.values() if f.name == name)

    def items_in(self, folder_id: str) -> list[FakeItem]:
        return [i for i in self.items.values() if i.folder_id == folder_id]

    def record(self, folder_id: str, kind: str, item_id: str) -> None:
        self.log.append((next(self._seq), folder_id, kind, item_id))

    def add(self, item: FakeItem) -> FakeItem:
        with self.lock:
            self.items[item.id] = item
            self.record(item.folder_id, "Create", item.id)
        return item

    def move(self, item_id: str, folder_id: str) -> FakeItem:
        with self.lock:
            old = self.items.pop(item_id)
            self.record(old.folder_id, "Delete", old.id)
            new = FakeItem(**{**old.__dict__, "id": new_id(), "folder_id": folder_id})
            return self.add(new)


def new_id() -> str:
    return f"AAMk{uuid.uuid4().hex}"


# -- parsing request elements -----------------------------------------------------------------


def text_of(elem: etree._Element, name: str) -> str | None:
    child = elem.find(t(name))
    return None if child is None else (child.text or "")


def addresses(elem: etree._Element, name: str) -> list[str]:
    container = elem.find(t(name))
    if container is None:
        return []
    return [a.text or "" for a in container.iter(t("EmailAddress"))]


def apply_fields(item: FakeItem, elem: etree._Element) -> None:
    """Copy the fields present in a t:Message element onto ``item``."""
    if (subject := text_of(elem, "Subject")) is not None:
        item.subject = subject
    body = elem.find(t("Body"))
    if body is not None:
        item.body, item.body_type = body.text or "", body.get("BodyType", "Text")
    for name, attr in [("ToRecipients", "to"), ("CcRecipients", "cc"), ("ReplyTo", "reply_to")]:
        if elem.find(t(name)) is not None:
            setattr(item, attr, addresses(elem, name))
    if (author := addresses(elem, "From")) or (author := addresses(elem, "Sender")):
        item.author = author[0]
    if (message_id := text_of(elem, "InternetMessageId")) is not None:
        item.message_id = message_id
    if (is_read := text_of(elem, "IsRead")) is not None:
        item.is_read = is_read in ("true", "1")
    if (item_class := text_of(elem, "ItemClass")) is not None:
        item.item_class = item_class
    for prop in elem.findall(t("ExtendedProperty")):
        uri = prop.find(t("ExtendedFieldURI"))
        assert uri is not None
        key = (
            uri.get("PropertySetId") or uri.get("DistinguishedPropertySetId") or "",
            uri.get("PropertyName") or "",
        )
        item.extended[key] = text_of(prop, "Value") or ""
    attachments = elem.find(t("Attachments"))
    if attachments is not None:
        for att in attachments.findall(t("FileAttachment")):
            item.attachments.append(
                FakeAttachment(
                    id=f"AT-{uuid.uuid4().hex}",
                    name=text_of(att, "Name") or "",
                    content_type=text_of(att, "ContentType") or "application/octet-stream",
                    content=base64.b64decode(text_of(att, "Content") or ""),
                )
            )


def matches(item: FakeItem, restriction: etree._Element | None) -> bool:
    """Evaluate the subset of EWS restrictions exchangelib emits for simple filters."""
    if restriction is None:
        return True
    tag = etree.QName(restriction).localname
    children = list(restriction)
    if tag == "Restriction":
        return all(matches(item, c) for c in children)
    if tag == "And":
        return all(matches(item, c) for c in children)
    if tag == "Or":
        return any(matches(item, c) for c in children)
    if tag == "Not":
        return not matches(item, children[0])
    if tag == "Exists":
        return field_value(item, children[0]) is not None
    if tag in ("IsEqualTo", "IsNotEqualTo"):
        const = restriction.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
        expected = None if const is None else const.get("Value")
        equal = field_value(item, children[0]) == expected
        return equal if tag == "IsEqualTo" else not equal
    raise NotImplementedError(f"fake EWS: restriction {tag} is not supported")


def field_value(item: FakeItem, uri: etree._Element) -> str | None:
    if etree.QName(uri).localname == "ExtendedFieldURI":
        return item.extended_value(uri.get("PropertyName") or "")
    field_uri = uri.get("FieldURI")
    simple = {
        "item:Subject": item.subject,
        "item:ItemClass": item.item_class,
        "message:InternetMessageId": item.message_id,
        "message:IsRead": "true" if item.is_read else "false",
    }
    if field_uri not in simple:
        raise NotImplementedError(f"fake EWS: restriction on {field_uri} is not supported")
    return simple[field_uri]


# -- writing response elements ----------------------------------------------------------------


def mailbox_list(tag: str, addrs: list[str]) -> str:
    if not addrs:
        return ""
    boxes = "".join(
        f"<t:Mailbox><t:EmailAddress>{escape(a)}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType>"
        f"<t:MailboxType>OneOff</t:MailboxType></t:Mailbox>"
        for a in addrs
    )
    return f"<t:{tag}>{boxes}</t:{tag}>"


def item_id_xml(item: FakeItem) -> str:
    return f"<t:ItemId Id={quoteattr(item.id)} ChangeKey={quoteattr(item.changekey)}/>"


def item_xml(item: FakeItem, id_only: bool = False) -> str:
    if id_only:
        return f"<t:Message>{item_id_xml(item)}</t:Message>"
    atts = "".join(
        f"<t:FileAttachment><t:AttachmentId Id={quoteattr(a.id)}/><t:Name>{escape(a.name)}</t:Name>"
        f"<t:ContentType>{escape(a.content_type)}</t:ContentType><t:Size>{len(a.content)}</t:Size>"
        f"<t:IsInline>false</t:IsInline></t:FileAttachment>"
        for a in item.attachments
    )
    props = "".join(
        f"<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId={quoteattr(s)} "
        f'PropertyName={quoteattr(n)} PropertyType="String"/>'
        f"<t:Value>{escape(v)}</t:Value></t:ExtendedProperty>"
        for (s, n), v in item.extended.items()
    )
    received = item.received.strftime("%Y-%m-%dT%H:%M:%SZ")
    author = mailbox_list("From", [item.author]) if item.author else ""
    in_reply_to = (f"<t:InReplyTo>{escape(item.in_reply_to)}</t:InReplyTo>"
                   if item.in_reply_to else "")
    references = (f"<t:References>{escape(item.references)}</t:References>"
                  if item.references else "")
    return (
        f"<t:Message>{item_id_xml(item)}"
        f'<t:ParentFolderId Id={quoteattr(item.folder_id)} ChangeKey="FCK"/>'
        f"<t:ItemClass>{escape(item.item_class)}</t:ItemClass>"
        f"<t:Subject>{escape(item.subject)}</t:Subject>"
        f"<t:Body BodyType={quoteattr(item.body_type)}>{escape(item.body)}</t:Body>"
        f"{f'<t:Attachments>{atts}</t:Attachments>' if atts else ''}"
        f"<t:DateTimeReceived>{received}</t:DateTimeReceived>"
        f"<t:DateTimeSent>{received}</t:DateTimeSent>"
        f"<t:HasAttachments>{'true' if item.attachments else 'false'}</t:HasAttachments>"
        f"{props}{in_reply_to}"
        f"{mailbox_list('ToRecipients', item.to)}{mailbox_list('CcRecipients', item.cc)}"
        f"{author}"
        f"<t:InternetMessageId>{escape(item.message_id)}</t:InternetMessageId>"
        f"<t:IsRead>{'true' if item.is_read else 'false'}</t:IsRead>"
        f"{references}{mailbox_list('ReplyTo', item.reply_to)}"
        f"</t:Message>"
    )


def folder_xml(mailbox: FakeMailbox, folder: FakeFolder) -> str:
    parent = (
        f'<t:ParentFolderId Id={quoteattr(folder.parent_id)} ChangeKey="FCK"/>'
        if folder.parent_id
        else ""
    )
    total = len(mailbox.items_in(folder.id))
    unread = sum(1 for i in mailbox.items_in(folder.id) if not i.is_read)
    children = sum(1 for f in mailbox.folders.values() if f.parent_id == folder.id)
    folder_class = (
        f"<t:FolderClass>{folder.folder_class}</t:FolderClass>" if folder.folder_class else ""
    )
    return (
        f'<t:Folder><t:FolderId Id={quoteattr(folder.id)} ChangeKey="FCK"/>{parent}{folder_class}'
        f"<t:DisplayName>{escape(folder.name)}</t:DisplayName><t:TotalCount>{total}</t:TotalCount>"
        f"<t:ChildFolderCount>{children}</t:ChildFolderCount><t:UnreadCount>{unread}</t:UnreadCount>"
        f"</t:Folder>"
    )
