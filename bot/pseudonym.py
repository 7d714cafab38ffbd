"""The one pseudonym of a user: what stores and logs keep instead of a sender id.

A sender id is namespaced by channel (`wechat:<OpenID>`, `rest:…`, `web:…`; bot.channel_policy.namespaced).
Its pseudonym is the first 16 hex digits of its SHA-256: the policy service stores it with feedback and
answer records (service/app.py), and the WeChat channel writes it in its log lines (bot.wechat_endpoint), so
staff can match a log line to a stored row of the same user without either holding the id.

Shared by both runtimes like bot.masking: dependency-free, so the service imports it from bot/.
Changing the digest or its length orphans every stored pseudonym: migrate the feedback table with it.
"""
from __future__ import annotations

import hashlib


def pseudonym(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode()).hexdigest()[:16]
