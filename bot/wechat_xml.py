"""Safe parsing of the XML bodies WeChat posts.

Every body is screened with defusedxml first: any DTD (and so any entity — XXE, billion laughs) is refused
before anything else reads the body. Only a screened document is then handed to wechatpy's parser, which
turns it into a typed message (TextMessage, VoiceMessage, SubscribeEvent …).
"""
from __future__ import annotations

from typing import Any, Dict, Tuple, Union

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException
from wechatpy import parse_message


class UnsafeXml(ValueError):
    """The body declares a DTD or entities: refused unread."""


class MalformedXml(ValueError):
    """The body is not a well-formed WeChat <xml> document."""


def _as_text(body: Union[bytes, str]) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedXml("body is not UTF-8") from error


def screen_xml(body: Union[bytes, str]) -> Dict[str, str]:
    """The <xml> document's top-level fields as {tag: text}; raises UnsafeXml or MalformedXml."""
    text = _as_text(body)
    try:
        root = SafeElementTree.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise UnsafeXml(type(error).__name__) from error
    except SafeElementTree.ParseError as error:
        raise MalformedXml(str(error)) from error
    if root.tag != "xml":
        raise MalformedXml("root element must be <xml>")
    return {child.tag: (child.text or "") for child in root}


def parse_wechat_message(body: Union[bytes, str]) -> Tuple[Dict[str, str], Any]:
    """The screened top-level fields and wechatpy's message/event object for a plaintext message body."""
    text = _as_text(body)
    fields = screen_xml(text)
    if not fields.get("MsgType") or not fields.get("FromUserName"):
        raise MalformedXml("MsgType or FromUserName missing")
    try:
        return fields, parse_message(text)
    except Exception as error:  # wechatpy raises KeyError/AttributeError/ValueError on odd shapes
        raise MalformedXml(f"unreadable message: {type(error).__name__}") from error
