"""`AsyncAnthropic` against batchd, end to end."""

import asyncio

import anthropic
import pytest

from conftest import API_KEY, BASE_URL, request, slow


async def wait_running(client: anthropic.AsyncAnthropic, batch_id: str):
    for _ in range(1200):
        if (await client.messages.batches.retrieve(batch_id)).request_counts.succeeded > 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"batch {batch_id} did not start")


async def wait_ended(client: anthropic.AsyncAnthropic, batch_id: str):
    for _ in range(1200):
        batch = await client.messages.batches.retrieve(batch_id)
        if batch.processing_status == "ended":
            return batch
        await asyncio.sleep(0.05)
    raise AssertionError(f"batch {batch_id} did not end")


@pytest.mark.asyncio
async def test_async_client_end_to_end():
    async with anthropic.AsyncAnthropic(base_url=BASE_URL, api_key=API_KEY, max_retries=0) as client:
        batch = await client.messages.batches.create(
            requests=[request("async-ok", "Hello, async"), request("async-bad", metadata={"user_id": "emulator:error=invalid_request_error"})]
        )
        assert batch.processing_status == "in_progress"
        ended = await wait_ended(client, batch.id)
        assert (ended.request_counts.succeeded, ended.request_counts.errored) == (1, 1)

        results = {item.custom_id: item.result async for item in await client.messages.batches.results(batch.id)}
        assert results["async-ok"].message.content[0].text == "[emulator] Hello, async"
        assert results["async-bad"].error.error.type == "invalid_request_error"
        assert results["async-bad"].error.message == results["async-bad"].error.error.message

        running = await client.messages.batches.create(requests=[request("async-quick")] + [slow(f"async-slow-{i}") for i in range(6)])
        # One batch a page: the async iterator fetches the next pages itself.
        listed = [item.id async for item in client.messages.batches.list(limit=1)]
        assert listed[:2] == [running.id, batch.id] and len(listed) == len(set(listed))
        # Once the quick one has succeeded, a slow one is in flight when the cancel lands.
        await wait_running(client, running.id)
        assert (await client.messages.batches.cancel(running.id)).processing_status == "canceling"
        assert (await wait_ended(client, running.id)).request_counts.canceled >= 2

        deleted = await client.messages.batches.delete(batch.id)
        assert deleted.type == "message_batch_deleted"
        with pytest.raises(anthropic.NotFoundError):
            await client.messages.batches.delete(batch.id)
        with pytest.raises(anthropic.BadRequestError):
            await client.messages.batches.create(requests=[])
