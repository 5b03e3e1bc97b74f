"""Params reach the provider as the client wrote them, numbers included.

Python's ints are exact at any size, where a double keeps 53 bits: a uint64 bound in a tool's
schema or an int64 `seed` would arrive rounded if batchd read them as doubles and wrote them out
again. `python-sdks.test.ts` finds these two numbers, as written, in what its fake providers received.
"""

import json
import time

from conftest import WAIT_SECONDS, wait_ended
from openai_batches import DONE
from test_provider_batches import PROVIDER_MODEL

UINT64_MAX = 2**64 - 1
INT64_MAX = 2**63 - 1


def test_a_uint64_bound_in_a_tool_schema_reaches_an_anthropic_batch_provider_as_written(client):
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0, "maximum": UINT64_MAX}}}
    params = {
        "model": PROVIDER_MODEL,
        "max_tokens": 32,
        "tools": [{"name": "pick", "description": "Picks a number.", "input_schema": schema}],
        "messages": [{"role": "user", "content": "Pick one"}],
    }
    batch = client.messages.batches.create(requests=[{"custom_id": "uint64", "params": params}])
    assert wait_ended(client, batch.id).request_counts.succeeded == 1


def test_an_int64_seed_reaches_an_openai_compatible_server_as_written(openai_client):
    body = {"model": "gpu-chat", "seed": INT64_MAX, "messages": [{"role": "user", "content": "Hi"}]}
    line = json.dumps({"custom_id": "int64", "method": "POST", "url": "/v1/chat/completions", "body": body})
    input_file = openai_client.files.create(file=("seed.jsonl", line.encode()), purpose="batch")
    batch = openai_client.batches.create(input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h")
    deadline = time.monotonic() + WAIT_SECONDS
    while (batch := openai_client.batches.retrieve(batch.id)).status not in DONE:
        assert time.monotonic() < deadline, f"batch {batch.id} did not finish: {batch}"
        time.sleep(0.05)
    assert batch.status == "completed"
    assert batch.request_counts.completed == 1
