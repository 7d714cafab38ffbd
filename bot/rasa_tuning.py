"""Two adjustments of the Rasa server made from inside it (installed when the channels load, bot.rest).

1. Action deadline. Rasa calls the action server with a fixed 5-minute timeout and offers no setting for it;
   a hung action server would hold the conversation that long. ACTION_TIMEOUT (default 3 s, below the
   channels' 3.5 s reply deadline) replaces it: a late action fails like an unreachable one, Rasa logs it and
   the channel sends the polite reply.
2. Action-response validation. Rasa validates every action server response with `jsonschema.validate`,
   which re-checks the large event schema itself on every call (≈ a third of Rasa's CPU per message here).
   The same schema validates the same way with a validator built once.
3. Lock polling. A message waiting for its conversation's lock (another message of the same sender is being
   processed) re-checks it every second, so a burst from one sender is answered in one-second steps. It now
   re-checks every LOCK_POLL_S (50 ms): the order of messages stays the ticket order.
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Dict

ACTION_TIMEOUT_S = float(os.environ.get("ACTION_TIMEOUT", "3"))
LOCK_POLL_S = 0.05


def install() -> None:
    from rasa.core.actions import action
    from rasa.core.lock_store import LockStore

    action.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT_S  # read by RemoteAction.run at call time
    acquire = LockStore.lock.__wrapped__  # the generator under @asynccontextmanager
    lifetime, _ = acquire.__defaults__
    acquire.__defaults__ = (lifetime, LOCK_POLL_S)
    if getattr(action.RemoteAction._validate_action_result, "tuned", False):
        return
    original = action.RemoteAction._validate_action_result

    def validate_with_compiled_schema(self: "action.RemoteAction", result: Dict[str, Any]) -> bool:
        from jsonschema import ValidationError

        try:
            _validator(self.action_response_format_spec).validate(result)
            return True
        except ValidationError:
            return original(self, result)  # the same error, with Rasa's own explanation added

    validate_with_compiled_schema.tuned = True  # type: ignore[attr-defined]
    action.RemoteAction._validate_action_result = validate_with_compiled_schema


@lru_cache(maxsize=4)
def _validator(spec_function):
    from jsonschema.validators import validator_for

    schema = spec_function()
    return validator_for(schema)(schema)
