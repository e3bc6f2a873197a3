"""Documented defaults for the model chain. Each value says why it is what it is."""

from __future__ import annotations

#: Seconds one model call may take. Long enough for a 2k-token patch from a slow remote model;
#: a hung connection must not hold a worker for the SDKs' default of ten minutes.
CALL_TIMEOUT_S = 120.0

#: Attempts on one provider before the chain falls back to the next (1 = no retry).
ATTEMPTS_PER_PROVIDER = 3
#: ...but a provider that timed out this many times is left at once: each timeout already cost
#: a full CALL_TIMEOUT_S, and a worker must not sit minutes on a hung endpoint.
TIMEOUT_ATTEMPTS_PER_PROVIDER = 2
#: First backoff pause in seconds; doubles after each failed attempt...
BACKOFF_BASE_S = 1.0
#: ...up to this cap, which also caps a server's Retry-After hint so a run cannot stall for long.
BACKOFF_MAX_S = 20.0

#: Rough characters per token, for the pre-call budget estimate (English text and code average
#: about four; over-estimating slightly is the safe side of a budget check).
CHARS_PER_TOKEN = 3.5

#: Default model per provider kind and role, used when neither the system config nor the repo
#: config names one. The analysis model must be strong at code; the explanation model cheap.
DEFAULT_MODELS: dict[str, dict[str, str]] = {
    "openai": {"analysis": "gpt-5.1", "explanation": "gpt-5.1-mini"},
    "anthropic": {"analysis": "claude-sonnet-4-6", "explanation": "claude-haiku-4-5"},
    "local": {"analysis": "qwen2.5-coder", "explanation": "qwen2.5-coder"},
}

#: API key sent to local OpenAI-compatible servers that need none; the SDK refuses an empty key.
LOCAL_PLACEHOLDER_KEY = "local-no-key"
