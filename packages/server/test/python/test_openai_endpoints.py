"""Batches of /v1/embeddings, /v1/responses and /v1/completions with the `openai` Python SDK.

`gpu-*` models go to the fake OpenAI-compatible server `python-sdks.test.ts` starts, whose
embedding of an input is [its length, its first character's code, 0.25]; other models go to the
emulator.
"""

import json
import time

import openai

from openai_batches import DONE


def run(client: openai.OpenAI, endpoint: str, bodies: dict[str, dict]):
    lines = [json.dumps({"custom_id": custom_id, "method": "POST", "url": endpoint, "body": body}) for custom_id, body in bodies.items()]
    input_file = client.files.create(file=("input.jsonl", "\n".join(lines).encode()), purpose="batch")
    batch = client.batches.create(input_file_id=input_file.id, endpoint=endpoint, completion_window="24h")
    assert batch.endpoint == endpoint
    deadline = time.monotonic() + 60
    while (batch := client.batches.retrieve(batch.id)).status not in DONE:
        assert time.monotonic() < deadline, f"batch {batch.id} did not finish: {batch}"
        time.sleep(0.05)
    answers = {}
    for file_id in (batch.output_file_id, batch.error_file_id):
        for line in client.files.content(file_id).text.splitlines() if file_id else []:
            item = json.loads(line)
            answers[item["custom_id"]] = item["response"]
    return batch, answers


def test_embeddings_through_an_openai_compatible_server_and_the_emulator(openai_client):
    batch, answers = run(openai_client, "/v1/embeddings", {
        "server": {"model": "gpu-embed", "input": ["hello", "hi"]},
        "emulated": {"model": "text-embedding-3-small", "input": "hello", "dimensions": 4},
    })
    assert batch.status == "completed" and batch.request_counts.completed == 2
    server = answers["server"]["body"]
    assert [(item["index"], item["embedding"]) for item in server["data"]] == [(0, [5, 104, 0.25]), (1, [2, 104, 0.25])]
    emulated = answers["emulated"]["body"]
    assert emulated["object"] == "list" and len(emulated["data"][0]["embedding"]) == 4
    assert batch.usage.input_tokens == server["usage"]["prompt_tokens"] + emulated["usage"]["prompt_tokens"]
    assert batch.usage.output_tokens == 0


def test_responses_on_the_emulator_and_translated_for_a_chat_server(openai_client):
    batch, answers = run(openai_client, "/v1/responses", {
        "emulated": {"model": "gpt-4.1-mini", "instructions": "Be brief.", "input": "Hello", "max_output_tokens": 40},
        "server": {"model": "gpu-chat", "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}]},
        "refused": {"model": "gpt-4.1-mini", "input": "x", "previous_response_id": "resp_1"},
    })
    assert (batch.request_counts.completed, batch.request_counts.failed) == (2, 1)
    emulated = answers["emulated"]["body"]
    assert emulated["object"] == "response" and emulated["status"] == "completed"
    assert emulated["output"][0]["content"][0] == {"type": "output_text", "text": "[emulator] Hello", "annotations": []}
    assert answers["server"]["body"]["output"][0]["content"][0]["text"] == "echo: Hi"
    assert answers["refused"]["status_code"] == 400
    assert answers["refused"]["body"]["error"]["message"].startswith("previous_response_id: not supported")
    usage = [answers[name]["body"]["usage"] for name in ("emulated", "server")]
    assert batch.usage.input_tokens == sum(u["input_tokens"] for u in usage)
    assert batch.usage.output_tokens == sum(u["output_tokens"] for u in usage)


def test_completions_on_the_emulator_and_an_openai_compatible_server(openai_client):
    batch, answers = run(openai_client, "/v1/completions", {
        "emulated": {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi"},
        "server": {"model": "gpu-base", "prompt": "Once upon", "max_tokens": 5},
    })
    assert batch.status == "completed" and batch.request_counts.completed == 2
    assert answers["emulated"]["body"]["object"] == "text_completion"
    assert answers["emulated"]["body"]["choices"][0]["text"] == "[emulator] Say hi"
    assert answers["server"]["body"]["choices"][0]["text"] == "completed: Once upon"
    assert batch.usage.total_tokens == sum(answers[name]["body"]["usage"]["total_tokens"] for name in ("emulated", "server"))
