"""Fixtures for the Python SDK suite: clients pointed at the batchd named by BATCHD_BASE_URL.

`packages/server/test/python-sdks.test.ts` runs this suite against real `batchd serve`
processes; by hand: BATCHD_BASE_URL=http://127.0.0.1:8787 pytest packages/server/test/python
"""

import os
import sys
import time
from pathlib import Path

import anthropic
import openai
import pytest

# The examples the README shows are the code under test.
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "examples" / "python"))

BASE_URL = os.environ.get("BATCHD_BASE_URL", "http://127.0.0.1:8787")
API_KEY = os.environ.get("BATCHD_API_KEY", "any-key")
MODEL = "claude-sonnet-4-6"
WAIT_SECONDS = 60


@pytest.fixture
def client() -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=BASE_URL, api_key=API_KEY, max_retries=0)


@pytest.fixture
def openai_client() -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{BASE_URL}/v1", api_key=API_KEY, max_retries=0)


def request(custom_id: str, text: str = "Hello", **extra) -> dict:
    """One batch request for the emulator; `user_id="emulator:..."` in `metadata` scripts how it ends."""
    params = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": text}], **extra}
    return {"custom_id": custom_id, "params": params}


def slow(custom_id: str, ms: int = 1500) -> dict:
    return request(custom_id, metadata={"user_id": f"emulator:latency={ms}"})


def wait_running(client: anthropic.Anthropic, batch_id: str):
    """Waits until a request has succeeded: the engine has claimed the batch, so a cancel finds requests in flight."""
    deadline = time.monotonic() + WAIT_SECONDS
    while client.messages.batches.retrieve(batch_id).request_counts.succeeded == 0:
        assert time.monotonic() < deadline, f"batch {batch_id} did not start"
        time.sleep(0.05)


def wait_ended(client: anthropic.Anthropic, batch_id: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        batch = client.messages.batches.retrieve(batch_id)
        if batch.processing_status == "ended":
            return batch
        assert time.monotonic() < deadline, f"batch {batch_id} did not end: {batch}"
        time.sleep(0.05)
