"""The Message Batches examples of the Python SDK's documentation, run against batchd.

Create a batch of two requests, print its status, poll until it has ended, then print each
result: the message's text, or the error's message. Against a running batchd:

    pip install anthropic
    BATCHD_BASE_URL=http://127.0.0.1:8787 python examples/python/message_batches.py
"""

import os
import time

import anthropic
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages.batch_create_params import Request

BASE_URL = os.environ.get("BATCHD_BASE_URL", "http://127.0.0.1:8787")
API_KEY = os.environ.get("BATCHD_API_KEY", "any-key")


def make_client() -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=BASE_URL, api_key=API_KEY)


def create_batch(client: anthropic.Anthropic, requests: list[Request] | None = None):
    message_batch = client.messages.batches.create(
        requests=requests
        or [
            Request(
                custom_id="my-first-request",
                params=MessageCreateParamsNonStreaming(
                    model="claude-sonnet-4-6",
                    max_tokens=1024,
                    messages=[{"role": "user", "content": "Hello, world"}],
                ),
            ),
            Request(
                custom_id="my-second-request",
                params=MessageCreateParamsNonStreaming(
                    model="claude-sonnet-4-6",
                    max_tokens=1024,
                    messages=[{"role": "user", "content": "Hi again, friend"}],
                ),
            ),
        ]
    )
    print(message_batch)
    return message_batch


def print_status(client: anthropic.Anthropic, message_batch_id: str) -> None:
    message_batch = client.messages.batches.retrieve(message_batch_id)
    print(f"Batch {message_batch.id} processing status is {message_batch.processing_status}")


def wait_until_ended(client: anthropic.Anthropic, message_batch_id: str, poll_seconds: float = 1):
    while True:
        message_batch = client.messages.batches.retrieve(message_batch_id)
        if message_batch.processing_status == "ended":
            break
        print(f"Batch {message_batch_id} is still processing...")
        time.sleep(poll_seconds)
    print(message_batch)
    return message_batch


def list_batches(client: anthropic.Anthropic) -> None:
    # Automatically fetches more pages as needed.
    for message_batch in client.messages.batches.list(limit=20):
        print(message_batch)


def print_results(client: anthropic.Anthropic, message_batch_id: str) -> None:
    # Streams the results one at a time.
    for result in client.messages.batches.results(message_batch_id):
        match result.result.type:
            case "succeeded":
                print(f"Success! {result.custom_id}: {result.result.message.content[0].text}")
            case "errored":
                if result.result.error.error.type == "invalid_request_error":
                    # Request body must be fixed before re-sending request
                    print(f"Validation error {result.custom_id}: {result.result.error.message}")
                else:
                    # Request can be retried directly
                    print(f"Server error {result.custom_id}: {result.result.error.message}")
            case "canceled":
                print(f"Request canceled {result.custom_id}")
            case "expired":
                print(f"Request expired {result.custom_id}")


def main() -> None:
    client = make_client()
    message_batch = create_batch(client)
    print_status(client, message_batch.id)
    wait_until_ended(client, message_batch.id)
    print_results(client, message_batch.id)


if __name__ == "__main__":
    main()
