"""The `anthropic` Python SDK driving a batch through an `anthropic-batch` backend (a fake Message Batches API)."""

import os

from conftest import wait_ended

# python-sdks.test.ts routes this model pattern to anthropic-batch; every other model goes to the emulator.
PROVIDER_MODEL = os.environ.get("BATCHD_PROVIDER_BATCH_MODEL", "claude-batch-sonnet")


def test_batch_through_a_provider_batch_keeps_the_providers_answer(client):
    requests = [
        {"custom_id": f"pb-{i}", "params": {"model": PROVIDER_MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": f"Hi {i}"}]}}
        for i in range(3)
    ]
    batch = client.messages.batches.create(requests=requests)
    ended = wait_ended(client, batch.id)
    assert ended.request_counts.succeeded == 3
    results = {item.custom_id: item.result for item in client.messages.batches.results(batch.id)}
    assert sorted(results) == ["pb-0", "pb-1", "pb-2"]
    for result in results.values():
        assert result.type == "succeeded"
        assert result.message.model == PROVIDER_MODEL
        # The provider's message is kept whole: its batch service tier and a field batchd does not know.
        assert result.message.usage.service_tier == "batch"
        assert result.message.model_extra["provider_only_field"] == {"kept": True}
