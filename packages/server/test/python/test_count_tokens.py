"""`client.messages.count_tokens` of the official Python SDK against batchd on the emulator."""

import anthropic
import pytest
from conftest import MODEL

MESSAGES = [{"role": "user", "content": "How many tokens do these words take?"}]


def test_count_matches_the_input_tokens_a_message_reports(client):
    created = client.messages.create(model=MODEL, max_tokens=16, system="Answer in one word.", messages=MESSAGES)
    counted = client.messages.count_tokens(model=MODEL, system="Answer in one word.", messages=MESSAGES)
    assert counted.input_tokens == created.usage.input_tokens > 0
    beta = client.beta.messages.count_tokens(model=MODEL, system="Answer in one word.", messages=MESSAGES, betas=["token-counting-2024-11-01"])
    assert beta.input_tokens == counted.input_tokens


def test_invalid_params_raise_bad_request_naming_the_field(client):
    with pytest.raises(anthropic.BadRequestError) as raised:
        client.messages.count_tokens(model=MODEL, messages=[])
    assert raised.value.status_code == 400
    assert raised.value.body["error"]["message"] == "messages: List should have at least 1 item after validation, not 0"
