"""Each notification channel reaches a real receiver in the shape its protocol documents."""

from __future__ import annotations

import pytest

from shelterwatch.config import Settings
from shelterwatch.notify import registry
from shelterwatch.notify.base import DeliveryError, Message
from shelterwatch.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.notify.receivers import http_receiver, smtp_server

MESSAGE = Message(address="", subject="Shelter reported locked",
                  text="Residents report the door of вул. Курчатова, 18-А locked.",
                  link="http://127.0.0.1:8000/v1/check-ins/abc", delivery_key="incident:1:k:1")


def settings(**values: str) -> Settings:
    return Settings(secret_key="s3cret-for-tests", **values)


def with_address(address: str) -> Message:
    return Message(address, MESSAGE.subject, MESSAGE.text, MESSAGE.link, MESSAGE.delivery_key)


def test_keyholder_webhook_is_signed_so_the_receiver_can_trust_it():
    with http_receiver() as receiver:
        channel = registry.load("webhook", settings())
        channel.send(with_address(receiver.url + "/hook"))
    (got,) = receiver.requests
    assert got.json()["subject"] == MESSAGE.subject
    assert verify("s3cret-for-tests", got.headers[TIMESTAMP_HEADER.lower()], got.body,
                  got.headers[SIGNATURE_HEADER.lower()])
    assert not verify("wrong", got.headers[TIMESTAMP_HEADER.lower()], got.body,
                      got.headers[SIGNATURE_HEADER.lower()])


def test_a_webhook_that_answers_500_is_retried_and_one_that_answers_404_is_not():
    with http_receiver() as receiver:
        channel = registry.load("webhook", settings())
        receiver.answer = lambda r: (500, {})
        with pytest.raises(DeliveryError) as busy:
            channel.send(with_address(receiver.url))
        receiver.answer = lambda r: (404, {})
        with pytest.raises(DeliveryError) as gone:
            channel.send(with_address(receiver.url))
    assert busy.value.retryable and not gone.value.retryable


def test_keyholder_gets_an_email_with_the_one_tap_link():
    with smtp_server() as mailbox:
        registry.load("email", settings(smtp_url=mailbox.url)).send(
            with_address("keyholder@example.invalid"))
    (mail,) = mailbox.messages
    assert mail["to"] == ["keyholder@example.invalid"]
    assert mail["subject"] == MESSAGE.subject
    assert MESSAGE.link in mail["body"] and "Курчатова" in mail["body"]


def test_an_unreachable_smtp_server_is_a_retryable_failure():
    from tests.support.server import free_port

    channel = registry.load("email", settings(smtp_url=f"smtp://127.0.0.1:{free_port()}"))
    with pytest.raises(DeliveryError) as failed:
        channel.send(with_address("keyholder@example.invalid"))
    assert failed.value.retryable


def test_sms_goes_through_the_configured_gateway_with_the_link():
    with http_receiver() as gateway:
        gateway.answer = lambda r: (200, {"id": "msg-1"})
        ref = registry.load("sms", settings(sms_gateway_url=gateway.url + "/send",
                                            sms_gateway_token="gw")).send(
            with_address("+380441234567"))
    (got,) = gateway.requests
    assert got.json()["to"] == "+380441234567"
    assert got.json()["text"].endswith(MESSAGE.link)
    assert got.headers["authorization"] == "Bearer gw"
    assert ref == "msg-1"


def test_telegram_message_uses_the_bot_api_send_message():
    with http_receiver() as bot_api:
        bot_api.answer = lambda r: (200, {"ok": True, "result": {
            "message_id": 42, "date": 1685577091, "chat": {"id": 1234, "type": "private"},
            "text": r.json()["text"]}})
        ref = registry.load("telegram", settings(telegram_api_url=bot_api.url,
                                                 telegram_bot_token="123:ABC")).send(
            with_address("1234"))
    (got,) = bot_api.requests
    assert got.path == "/bot123:ABC/sendMessage"
    assert got.json()["chat_id"] == "1234"
    assert ref == "42"


def test_telegram_flood_control_is_retried_after_the_time_it_asks():
    with http_receiver() as bot_api:
        bot_api.answer = lambda r: (429, {"ok": False, "error_code": 429,
                                          "description": "Too Many Requests: retry after 7",
                                          "parameters": {"retry_after": 7}})
        channel = registry.load("telegram", settings(telegram_api_url=bot_api.url,
                                                     telegram_bot_token="123:ABC"))
        with pytest.raises(DeliveryError) as failed:
            channel.send(with_address("1234"))
    assert failed.value.retryable and failed.value.retry_after_s == 7


def test_an_unknown_channel_name_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="webhook"):
        registry.load("pigeon", settings())
