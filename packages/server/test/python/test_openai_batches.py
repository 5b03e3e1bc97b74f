"""The `openai` Python SDK's Files and Batch APIs against batchd, the example first."""

import json
import time

import openai
import pytest

import openai_batches
from openai_batches import chat_line, upload


def wait_done(client: openai.OpenAI, batch_id: str):
    deadline = time.monotonic() + 60
    while (batch := client.batches.retrieve(batch_id)).status not in openai_batches.DONE:
        assert time.monotonic() < deadline, f"batch {batch_id} did not finish: {batch}"
        time.sleep(0.05)
    return batch


def test_example_runs_as_written(capsys):
    openai_batches.main()
    printed = capsys.readouterr().out
    assert "first: [emulator] Hello, world" in printed.splitlines()
    assert "second: [emulator] Hi again, friend" in printed.splitlines()
    assert "deleted=True" in printed


def test_files_and_batches_flow(openai_client):
    lines = [chat_line("ok", "Hello"), chat_line("bad", "emulator:error=invalid_request_error")]
    input_file = upload(openai_client, lines)
    assert (input_file.purpose, input_file.bytes) == ("batch", len("\n".join(lines).encode()))
    assert openai_client.files.retrieve(input_file.id).id == input_file.id
    assert input_file.id in [f.id for f in openai_client.files.list()]
    assert openai_client.files.content(input_file.id).text == "\n".join(lines)

    batch = openai_client.batches.create(input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert batch.status == "in_progress"
    done = wait_done(openai_client, batch.id)
    assert done.status == "completed"
    assert (done.request_counts.completed, done.request_counts.failed) == (1, 1)
    [output] = [json.loads(line) for line in openai_client.files.content(done.output_file_id).text.splitlines()]
    assert output["custom_id"] == "ok" and output["response"]["body"]["object"] == "chat.completion"
    [failed] = [json.loads(line) for line in openai_client.files.content(done.error_file_id).text.splitlines()]
    assert failed["custom_id"] == "bad" and failed["response"]["status_code"] == 400
    assert batch.id in [b.id for b in openai_client.batches.list()]

    deleted = openai_client.files.delete(input_file.id)
    assert (deleted.id, deleted.deleted) == (input_file.id, True)
    with pytest.raises(openai.NotFoundError):
        openai_client.files.retrieve(input_file.id)
    with pytest.raises(openai.NotFoundError):
        openai_client.files.delete(input_file.id)


def test_cancel(openai_client):
    input_file = upload(openai_client, [chat_line(f"slow-{i}", "emulator:latency=1500") for i in range(6)])
    batch = openai_client.batches.create(input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert openai_client.batches.cancel(batch.id).status in ("cancelling", "cancelled")
    done = wait_done(openai_client, batch.id)
    assert done.status == "cancelled"
    assert done.request_counts.failed >= 2
    cancelled = [json.loads(line) for line in openai_client.files.content(done.error_file_id).text.splitlines()]
    assert sum(1 for item in cancelled if item["error"] and item["error"]["code"] == "batch_cancelled") >= 2
    with pytest.raises(openai.BadRequestError):
        openai_client.batches.create(input_file_id=input_file.id, endpoint="/v1/moderations", completion_window="24h")


def test_a_file_sent_in_parts_runs_as_a_batch(openai_client, tmp_path):
    lines = [chat_line(f"part-{i}", f"Hello from line {i}") for i in range(30)]
    path = tmp_path / "chunked.jsonl"
    path.write_text("\n".join(lines) + "\n")
    upload = openai_client.uploads.upload_file_chunked(file=path, mime_type="application/jsonl", purpose="batch", part_size=700)
    assert (upload.status, upload.file.filename, upload.file.bytes) == ("completed", "chunked.jsonl", path.stat().st_size)
    assert openai_client.files.content(upload.file.id).text == path.read_text()
    batch = openai_client.batches.create(input_file_id=upload.file.id, endpoint="/v1/chat/completions", completion_window="24h")
    done = wait_done(openai_client, batch.id)
    assert (done.status, done.request_counts.completed) == ("completed", 30)

    cancelled = openai_client.uploads.cancel(openai_client.uploads.create(bytes=10, filename="x.jsonl", mime_type="application/jsonl", purpose="batch").id)
    assert cancelled.status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        openai_client.uploads.parts.create(upload_id=cancelled.id, data=b"{}\n")
