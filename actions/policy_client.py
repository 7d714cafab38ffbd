"""HTTP client for the policy service: the action server's only route to the knowledge base.

The boundary: every policy fact the actions use — clauses, answers, the published parameters and rules,
even the wording of a group's name — comes from the policy service over HTTP, so staff edits, publishes
and /api/admin/reload take effect without restarting the action server, and nothing is cached here.
In process the actions run only knowledge/'s language code, which ships with the release and holds no
staff-edited data: the profile reader (knowledge.profile_text, its words in knowledge/profile_terms.yaml),
the wording of a result (knowledge.entitlement_text, entitlement_format) and the screening fact
declarations (knowledge.entitlement_request).
"""
from __future__ import annotations

import os
from typing import Any

import aiohttp

DEFAULT_URL = "http://127.0.0.1:8000"
# Below the action deadline (Rasa gives an action 3 s): a hung policy service still leaves time for the
# action's polite "service unavailable" answer.
TIMEOUT = aiohttp.ClientTimeout(total=float(os.environ.get("POLICY_SERVICE_TIMEOUT", "2.5")))


class PolicyServiceUnavailable(Exception):
    """The policy service could not be reached or answered with a server error."""


class PolicyRequestRejected(Exception):
    """The policy service refused the request (4xx); `message` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PolicyClient:
    def __init__(self, base_url: str | None = None):
        self.base_url = (base_url or os.environ.get("POLICY_SERVICE_URL") or DEFAULT_URL).rstrip("/")

    async def answer(self, question: str, intent: str | None = None, confidence: float | None = None,
                     context: dict | None = None, sender: str | None = None, channel: str | None = None) -> dict:
        return await self._post("/api/answer", {"q": question, "intent": intent, "confidence": confidence,
                                                "context": context, "sender": sender, "channel": channel})

    async def entitlements(self, profile: dict) -> dict:
        return await self._post("/api/entitlements", profile)

    async def wording(self) -> dict[str, dict[str, str]]:
        """{"groups": {contract name: the document's wording}, "activities": {…}} of the rules in force."""
        return await self._request("GET", "/api/entitlements/wording")

    async def feedback(self, record: dict) -> dict:
        return await self._post("/api/feedback", record)

    async def handoff(self, record: dict) -> dict:
        """Queue the sender for a human (idempotent); answers its place and whether agents are in."""
        return await self._post("/api/handoff", record)

    async def documents(self) -> list[dict]:
        return (await self._request("GET", "/api/documents")).get("documents", [])

    async def _post(self, path: str, body: dict) -> Any:
        return await self._request("POST", path, body)

    async def _request(self, method: str, path: str, body: dict | None = None) -> Any:
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                async with session.request(method, self.base_url + path, json=body) as response:
                    payload = await response.json(content_type=None)
                    if 400 <= response.status < 500:
                        raise PolicyRequestRejected((payload or {}).get("error", f"HTTP {response.status}"))
                    if response.status >= 500:
                        raise PolicyServiceUnavailable(f"HTTP {response.status}")
                    return payload
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise PolicyServiceUnavailable(str(error) or type(error).__name__) from error
