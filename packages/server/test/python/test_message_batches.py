"""The `anthropic` Python SDK's Message Batches interface against batchd, documented examples first."""

import anthropic
import pytest

import message_batches
from conftest import request, slow, wait_ended, wait_running


def test_documented_example_runs_as_written(capsys):
    message_batches.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("Batch msgbatch_") and " processing status is " in lines[1]
    assert lines[-2:] == ["Success! my-first-request: [emulator] Hello, world", "Success! my-second-request: [emulator] Hi again, friend"]


def test_documented_results_loop_prints_both_branches(client, capsys):
    batch = message_batches.create_batch(
        client,
        [
            request("fine", "Hello, world"),
            request("invalid", metadata={"user_id": "emulator:error=invalid_request_error"}),
            request("refused", metadata={"user_id": "emulator:error=permission_error"}),
        ],
    )
    message_batches.print_status(client, batch.id)
    ended = message_batches.wait_until_ended(client, batch.id, poll_seconds=0.05)
    assert ended.request_counts.succeeded == 1 and ended.request_counts.errored == 2
    capsys.readouterr()
    message_batches.print_results(client, batch.id)
    assert sorted(capsys.readouterr().out.splitlines()) == [
        "Server error refused: Permission denied (injected by emulator:error=permission_error)",
        "Success! fine: [emulator] Hello, world",
        "Validation error invalid: Invalid request (injected by emulator:error=invalid_request_error)",
    ]
    errored = [item for item in client.messages.batches.results(batch.id) if item.result.type == "errored"]
    for item in errored:
        # The hosted shape is kept; `message` rides beside it.
        assert item.result.error.type == "error"
        assert item.result.error.message == item.result.error.error.message != ""


def test_list_auto_paginates_and_pages_by_after_and_before_id(client, capsys):
    ids = [client.messages.batches.create(requests=[request(f"page-{i}")]).id for i in range(5)]
    newest_first = ids[::-1]
    everything = [batch.id for batch in client.messages.batches.list(limit=1000)]
    walked = [batch.id for batch in client.messages.batches.list(limit=2)]
    assert walked == everything
    assert everything[:5] == newest_first
    first_page = client.messages.batches.list(limit=2)
    assert [b.id for b in first_page.data] == newest_first[:2] and first_page.has_more
    assert first_page.first_id == newest_first[0] and first_page.last_id == newest_first[1]
    after = client.messages.batches.list(limit=2, after_id=newest_first[1])
    assert [b.id for b in after.data] == newest_first[2:4]
    before = client.messages.batches.list(limit=2, before_id=newest_first[3])
    assert [b.id for b in before.data] == newest_first[1:3]
    message_batches.list_batches(client)
    assert f"id='{newest_first[0]}'" in capsys.readouterr().out


def test_with_raw_response(client):
    created = client.messages.batches.with_raw_response.create(requests=[request("raw")])
    assert created.status_code == 200
    assert created.headers["request-id"].startswith("req_")
    batch = created.parse()
    retrieved = client.messages.batches.with_raw_response.retrieve(batch.id)
    assert retrieved.parse().id == batch.id
    assert retrieved.http_request.headers["x-api-key"] == client.api_key
    wait_ended(client, batch.id)
    deleted = client.messages.batches.with_raw_response.delete(batch.id)
    assert deleted.http_request.headers["content-type"] == "application/json"
    assert deleted.parse().type == "message_batch_deleted"


def test_cancel_of_a_running_batch(client):
    # batchd runs this suite with --concurrency 1: once the quick first request has succeeded, one
    # slow request is in flight and one claimed next when the cancel lands; those not yet sent end canceled.
    batch = client.messages.batches.create(requests=[request("quick")] + [slow(f"slow-{i}") for i in range(6)])
    wait_running(client, batch.id)
    canceling = client.messages.batches.cancel(batch.id)
    assert canceling.processing_status == "canceling"
    assert canceling.cancel_initiated_at is not None
    ended = wait_ended(client, batch.id)
    counts = ended.request_counts
    assert counts.canceled >= 2 and counts.succeeded + counts.canceled == 7
    kinds = {item.custom_id: item.result.type for item in client.messages.batches.results(batch.id)}
    assert sorted(kinds.values()).count("canceled") == counts.canceled


def test_delete(client):
    batch = client.messages.batches.create(requests=[request("to-delete")])
    wait_ended(client, batch.id)
    deleted = client.messages.batches.delete(batch.id)
    assert (deleted.id, deleted.type) == (batch.id, "message_batch_deleted")
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve(batch.id)


def test_errors_map_to_the_sdk_exceptions(client):
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.batches.retrieve("msgbatch_0123456789abcdefghijklmn")
    assert missing.value.status_code == 404
    assert missing.value.body["error"]["type"] == "not_found_error"
    assert missing.value.request_id.startswith("req_")
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.cancel("msgbatch_0123456789abcdefghijklmn")
    with pytest.raises(anthropic.BadRequestError) as invalid:
        client.messages.batches.create(requests=[request("not valid!")])
    assert invalid.value.status_code == 400
    assert "custom_id" in invalid.value.body["error"]["message"]
    running = client.messages.batches.create(requests=[slow("busy", 5000)])
    with pytest.raises(anthropic.BadRequestError, match="still processing"):
        client.messages.batches.delete(running.id)
    client.messages.batches.cancel(running.id)
