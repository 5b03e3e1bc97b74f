"""`client.messages.create` and `client.messages.stream` of the official Python SDK against batchd on backends that do not stream."""

import anthropic
import pytest
from conftest import MODEL

PARAMS = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Stream this reply in pieces, please."}]}


def test_a_streamed_call_ends_with_the_message_the_same_call_answers_whole(client):
    with client.messages.stream(**PARAMS) as stream:
        pieces = list(stream.text_stream)
        streamed = stream.get_final_message()
    assert pieces == ["[emulator] Strea", "m this reply in ", "pieces, please."]
    whole = client.messages.create(**PARAMS)
    assert streamed.model_dump(exclude={"parsed_output"}) == whole.model_dump(exclude={"parsed_output"})


def test_raw_events_arrive_in_the_order_the_messages_api_sends_them(client):
    events = [event.type for event in client.messages.create(**PARAMS, stream=True)]
    assert events[:2] == ["message_start", "content_block_start"]
    assert events[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert events.count("content_block_delta") == 3


def test_an_error_the_emulator_is_told_to_give_is_raised(client):
    with pytest.raises(anthropic.OverloadedError) as raised:
        with client.messages.stream(**PARAMS, metadata={"user_id": "emulator:error=overloaded_error"}) as stream:
            stream.get_final_message()
    assert raised.value.status_code == 529
    assert raised.value.body["error"]["type"] == "overloaded_error"


def test_a_call_to_an_openai_compatible_server_streams_as_the_messages_api_does(client):
    # python-sdks.test.ts routes gpu-* models to a fake OpenAI-compatible server, which does not stream to batchd.
    params = {**PARAMS, "model": "gpu-chat"}
    with client.messages.stream(**params) as stream:
        text = "".join(stream.text_stream)
        streamed = stream.get_final_message()
    assert text == "echo: Stream this reply in pieces, please."
    whole = client.messages.create(**params)
    assert streamed.model_dump(exclude={"parsed_output"}) == whole.model_dump(exclude={"parsed_output"})
