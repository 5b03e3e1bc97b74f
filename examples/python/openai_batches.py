"""OpenAI's Batch API flow with the `openai` Python SDK, run against batchd.

Upload a JSONL file of chat completion requests, create a batch from it, poll until it is
done, print the lines of its output and error files, then delete the input file. Against a running batchd:

    pip install openai
    BATCHD_BASE_URL=http://127.0.0.1:8787 python examples/python/openai_batches.py
"""

import json
import os
import time

from openai import OpenAI

BASE_URL = os.environ.get("BATCHD_BASE_URL", "http://127.0.0.1:8787")
API_KEY = os.environ.get("BATCHD_API_KEY", "any-key")
DONE = {"completed", "failed", "expired", "cancelled"}


def make_client() -> OpenAI:
    return OpenAI(base_url=f"{BASE_URL}/v1", api_key=API_KEY)


def chat_line(custom_id: str, text: str) -> str:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "max_tokens": 64}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})


def upload(client: OpenAI, lines: list[str]):
    return client.files.create(file=("batch-input.jsonl", "\n".join(lines).encode()), purpose="batch")


def wait_until_done(client: OpenAI, batch_id: str, poll_seconds: float = 1):
    batch = client.batches.retrieve(batch_id)
    while batch.status not in DONE:
        print(f"Batch {batch.id} is {batch.status}...")
        time.sleep(poll_seconds)
        batch = client.batches.retrieve(batch_id)
    print(f"Batch {batch.id} is {batch.status}: {batch.request_counts}")
    return batch


def print_file(client: OpenAI, file_id: str) -> None:
    for line in client.files.content(file_id).text.splitlines():
        item = json.loads(line)
        if item["error"] is not None:  # never sent: cancelled or expired
            print(f"{item['custom_id']} failed: {item['error']['message']}")
        elif item["response"]["status_code"] == 200:
            print(f"{item['custom_id']}: {item['response']['body']['choices'][0]['message']['content']}")
        else:
            print(f"{item['custom_id']} failed: {item['response']['body']['error']['message']}")


def main() -> None:
    client = make_client()
    input_file = upload(client, [chat_line("first", "Hello, world"), chat_line("second", "Hi again, friend")])
    batch = client.batches.create(input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h")
    batch = wait_until_done(client, batch.id)
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            print_file(client, file_id)
    print(client.files.delete(input_file.id))


if __name__ == "__main__":
    main()
