"""The fields of OpenAI's batch and file objects batchd keeps, with the `openai` Python SDK: model,
usage, metadata, output_expires_after, files' expires_after and the file list."""

import json

import openai
import pytest

from openai_batches import chat_line, upload
from test_openai_batches import wait_done

HOUR = 3600


def create(client: openai.OpenAI, file_id: str, **extra):
    return client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h", **extra)


def test_batch_reports_model_metadata_and_summed_usage(openai_client):
    metadata = {f"{i}".ljust(64, "k"): f"{i}".ljust(512, "v") for i in range(16)}
    lines = [chat_line("one", "Hello"), chat_line("two", "A longer question, with more tokens in it"), chat_line("bad", "emulator:error=invalid_request_error")]
    input_file = upload(openai_client, lines)
    batch = create(openai_client, input_file.id, metadata=metadata, output_expires_after={"anchor": "created_at", "seconds": HOUR})
    assert (batch.model, batch.metadata) == ("gpt-4o-mini", metadata)

    done = wait_done(openai_client, batch.id)
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 1)
    usages = [json.loads(line)["response"]["body"]["usage"] for line in openai_client.files.content(done.output_file_id).text.splitlines()]
    prompt = sum(usage["prompt_tokens"] for usage in usages)
    completion = sum(usage["completion_tokens"] for usage in usages)
    cached = sum(usage.get("prompt_tokens_details", {}).get("cached_tokens", 0) for usage in usages)
    assert prompt > 0 and completion > 0
    assert (done.usage.input_tokens, done.usage.output_tokens, done.usage.total_tokens) == (prompt, completion, prompt + completion)
    assert (done.usage.input_tokens_details.cached_tokens, done.usage.output_tokens_details.reasoning_tokens) == (cached, 0)

    listed = [b for b in openai_client.batches.list(limit=10).data if b.id == batch.id]
    assert [(b.model, b.metadata, b.usage) for b in listed] == [(done.model, metadata, done.usage)]
    for file_id in (done.output_file_id, done.error_file_id):
        assert openai_client.files.retrieve(file_id).expires_at == done.completed_at + HOUR


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k" * 65: "v"}}, "metadata"),
        ({"metadata": {"key": "v" * 513}}, "metadata"),
        ({"output_expires_after": {"anchor": "created_at", "seconds": HOUR - 1}}, "output_expires_after.seconds"),
        ({"output_expires_after": {"anchor": "created_at", "seconds": 30 * 24 * HOUR + 1}}, "output_expires_after.seconds"),
    ],
)
def test_create_refuses_fields_past_openai_limits(openai_client, extra, param):
    input_file = upload(openai_client, [chat_line("never", "x")])
    with pytest.raises(openai.BadRequestError) as refused:
        create(openai_client, input_file.id, **extra)
    assert refused.value.status_code == 400
    assert refused.value.body["param"] == param


def test_file_expires_after_sets_expires_at(openai_client):
    policy = {"anchor": "created_at", "seconds": 2 * HOUR}
    expiring = openai_client.files.create(file=("expiring.jsonl", b"{}\n"), purpose="batch", expires_after=policy)
    assert expiring.expires_at == expiring.created_at + 2 * HOUR
    assert openai_client.files.retrieve(expiring.id).expires_at == expiring.expires_at
    plain = openai_client.files.create(file=("plain.jsonl", b"{}\n"), purpose="batch")
    assert plain.expires_at == plain.created_at + 30 * 24 * HOUR
    with pytest.raises(openai.BadRequestError) as refused:
        openai_client.files.create(file=("refused.jsonl", b"{}\n"), purpose="batch", expires_after={"anchor": "created_at", "seconds": 60})
    assert refused.value.body["param"] == "expires_after.seconds"
    assert "refused.jsonl" not in [f.filename for f in openai_client.files.list().data]


def test_files_list_pages_orders_and_filters(openai_client):
    ids = [openai_client.files.create(file=(f"page-{i}.jsonl", b"{}\n"), purpose="batch").id for i in range(5)]
    first = openai_client.files.list(limit=2)
    assert ([f.id for f in first.data], first.has_more) == ([ids[4], ids[3]], True)
    assert [f.id for f in openai_client.files.list(limit=2, after=ids[3]).data] == [ids[2], ids[1]]
    ascending = openai_client.files.list(order="asc", after=ids[0], limit=3)
    assert ([f.id for f in ascending.data], ascending.has_more) == (ids[1:4], True)
    assert [f.id for f in openai_client.files.list(order="asc", after=ids[3]).data] == [ids[4]]
    assert [f.id for f in openai_client.files.list(purpose="batch", limit=5).data] == ids[::-1]
    assert openai_client.files.list(purpose="fine-tune").data == []
    paged = [f.id for f in openai_client.files.list(limit=2)]
    assert paged[:5] == ids[::-1]
    with pytest.raises(openai.BadRequestError):
        openai_client.files.list(limit=10_001)


def test_lines_past_the_params_shape_fail_the_batch(openai_client):
    nested = []
    for _ in range(64):
        nested = [nested]
    line = json.loads(chat_line("deep", "x"))
    line["body"]["metadata_nested"] = nested
    wide = json.loads(chat_line("wide", "x"))
    wide["body"]["logit_values"] = [0] * 100_000
    input_file = upload(openai_client, [chat_line("fine", "x"), json.dumps(line), json.dumps(wide)])
    batch = create(openai_client, input_file.id)
    assert batch.status == "failed"
    assert [(e.line, e.code, e.param, e.message) for e in batch.errors.data] == [
        (2, "invalid_value", "body", "Line 2: body is nested deeper than the maximum of 64 levels."),
        (3, "invalid_value", "body", "Line 3: body has more than the maximum of 100000 JSON values and keys."),
    ]
