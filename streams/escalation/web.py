"""HTTP on every worker: responders acknowledge or resolve, anyone with the token reads a timeline.

    POST /escalations/{id}/ack       202 accepted · 400 bad body · 401 bad token · 404 unknown id
    POST /escalations/{id}/resolve   the same; body {"by", "note", "outcome"} (all optional)
    GET  /escalations/{id}           the escalation and its timeline

Any worker answers: the one holding the escalation's partition checks the id and queues the
action on ``alerts.commands``; another forwards the request to it (body included, which
Faust's own table routing drops). The action takes effect when the escalator applies it; the
timeline then shows it.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from faust import web
from faust.types import TP
from pydantic import ValidationError

from schemas.escalation import ACTIONS, EscalationActionV1
from streams.app import app, settings
from streams.escalation.agents import escalator, escalator_table, send_action
from streams.escalation.commands import district_partition
from streams.escalation.lifecycle import Escalation, district_of

__all__ = ["EscalationActionView", "EscalationView", "authorized", "owner_url"]

_FORWARDED = "X-Gridwatch-Forwarded"


def authorized(request: web.Request) -> bool:
    """Whether the request carries the API token (compared in constant time)."""
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {settings.escalation.api_token.get_secret_value()}"
    return hmac.compare_digest(given.encode(), expected.encode())


def _holds(partition: int) -> bool:
    return TP(settings.topics.escalation_commands, partition) in app.consumer.assignment()


def owner_url(partition: int) -> str | None:
    """The web address of the worker that holds ``partition`` of the escalator's table."""
    changelog = escalator_table.changelog_topic.get_topic_name()
    for url, topics in app.router.table_metadata(escalator_table.name).items():
        if partition in topics.get(changelog, ()):
            return str(url)
    return None


class _EscalationViewBase(web.View):
    async def _local_or_forward(
        self, request: web.Request, escalation_id: str
    ) -> tuple[Escalation | None, web.Response | None]:
        """The escalation if held here; else the owner's answer (or an error) to return."""
        if not authorized(request):
            return None, self.json({"error": "missing or wrong bearer token"}, status=401)
        district = district_of(escalation_id)
        if district is None:
            return None, self.json({"error": "no escalation with this id"}, status=404)
        partition = district_partition(district, settings.kafka.partitions)
        if _holds(partition):
            esc = escalator.get(escalation_id)
            if esc is None:
                return None, self.json({"error": "no escalation with this id"}, status=404)
            return esc, None
        return None, await self._forward(request, partition)

    async def _forward(self, request: web.Request, partition: int) -> web.Response:
        owner = owner_url(partition)
        if owner is None or request.headers.get(_FORWARDED):
            error = {"error": "the escalation's partition is being reassigned; retry shortly"}
            return self.json(error, status=503)
        headers = {"Authorization": request.headers.get("Authorization", ""), _FORWARDED: "1"}
        url = f"{owner.rstrip('/')}{request.url.path}"
        async with app.http_client.request(
            request.method, url, headers=headers, data=await request.read()
        ) as response:
            body = await response.read()
            return self.bytes(body, content_type="application/json", status=response.status)


@app.page("/escalations/{escalation_id}/{action}")
class EscalationActionView(_EscalationViewBase):
    """Acknowledge or resolve an escalation."""

    async def post(self, request: web.Request, escalation_id: str, action: str) -> web.Response:
        """Queue the action for the escalator; 202 once it is on ``alerts.commands``."""
        if action not in ACTIONS:
            return self.json({"error": f"action must be one of {list(ACTIONS)}"}, status=404)
        esc, answer = await self._local_or_forward(request, escalation_id)
        if answer is not None:
            return answer
        assert esc is not None  # noqa: S101 - _local_or_forward returns one or the other
        try:
            body: dict[str, Any] = json.loads(await request.read() or b"{}")
            fields = {"by": "api", **body, "escalation_id": escalation_id, "action": action}
            command = EscalationActionV1.model_validate(fields)
        except (ValueError, TypeError, ValidationError) as exc:
            return self.json({"error": f"bad body: {exc}"}, status=400)
        await send_action(command)
        reply = {"escalation_id": escalation_id, "action": action, "status_before": esc.status}
        return self.json(reply, status=202)


@app.page("/escalations/{escalation_id}")
class EscalationView(_EscalationViewBase):
    """One escalation as it stands, with its timeline."""

    async def get(self, request: web.Request, escalation_id: str) -> web.Response:
        """The stored escalation (masked; sealed PII left out)."""
        esc, answer = await self._local_or_forward(request, escalation_id)
        if answer is not None:
            return answer
        assert esc is not None  # noqa: S101 - _local_or_forward returns one or the other
        state = esc.model_dump(mode="json", exclude={"reports": {"__all__": {"sealed_pii"}}})
        state["timeline"] = [
            entry.event.model_dump(mode="json", exclude={"reports"}) for entry in esc.timeline
        ]
        return self.json(state)
