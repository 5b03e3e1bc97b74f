"""The official Python SDKs against a batchd short of storage (`--min-free-disk-mb` past the disk's size).

`packages/server/test/python-sdks.test.ts` runs this file against such a server: creates and
uploads answer 507 in each API's envelope, once (`x-should-retry: false` stops the SDKs' retries),
and nothing is stored.
"""

import os

import anthropic
import openai
import pytest

BASE_URL = os.environ["BATCHD_BASE_URL"]
API_KEY = os.environ.get("BATCHD_API_KEY", "any-key")
REQUEST = {"custom_id": "a", "params": {"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}}
LINE = b'{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[]}}\n'


def test_creates_and_uploads_answer_507_once_and_store_nothing():
    calls = []
    hooks = {"request": [lambda request: calls.append(f"{request.method} {request.url.path}")]}
    # The SDKs' default retries stay on: the answer's x-should-retry: false is what stops them.
    client = anthropic.Anthropic(base_url=BASE_URL, api_key=API_KEY, http_client=anthropic.DefaultHttpxClient(event_hooks=hooks))
    oai = openai.OpenAI(base_url=f"{BASE_URL}/v1", api_key=API_KEY, http_client=openai.DefaultHttpxClient(event_hooks=hooks))

    with pytest.raises(anthropic.InternalServerError) as refused:
        client.messages.batches.create(requests=[REQUEST])
    assert refused.value.status_code == 507
    assert refused.value.body["error"]["type"] == "api_error"
    assert "short of storage" in refused.value.body["error"]["message"]

    with pytest.raises(openai.InternalServerError) as refused_upload:
        oai.files.create(file=("input.jsonl", LINE), purpose="batch")
    assert refused_upload.value.status_code == 507
    assert "short of storage" in str(refused_upload.value)

    assert calls == ["POST /v1/messages/batches", "POST /v1/files"]
    assert client.messages.batches.list().data == []
    assert oai.files.list().data == []
