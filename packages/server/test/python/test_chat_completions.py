"""`client.chat.completions.create` and `client.chat.completions.stream` of the official Python SDK against batchd."""

import openai
import pytest

PARAMS = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Stream this reply in pieces, please."}]}


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpu-chat", "sonnet-chat"])
def test_a_streamed_call_ends_with_the_choices_the_same_call_answers_whole(openai_client, model):
    # python-sdks.test.ts routes gpu-* models to a fake OpenAI-compatible server, sonnet-* models to a
    # fake Anthropic API (whose streamed events become chunks as they come), others to the emulator.
    params = {**PARAMS, "model": model}
    whole = openai_client.chat.completions.create(**params)
    assert "Stream this reply in pieces, please." in whole.choices[0].message.content
    with openai_client.chat.completions.stream(**params, stream_options={"include_usage": True}) as stream:
        pieces = [event.delta for event in stream if event.type == "content.delta"]
        streamed = stream.get_final_completion()
    assert len(pieces) > 1
    assert "".join(pieces) == whole.choices[0].message.content
    assert streamed.choices[0].message.content == whole.choices[0].message.content
    assert streamed.choices[0].finish_reason == whole.choices[0].finish_reason == "stop"
    assert streamed.usage == whole.usage


def test_raw_chunks_end_with_the_usage_when_asked(openai_client):
    chunks = list(openai_client.chat.completions.create(**PARAMS, stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert {chunk.id for chunk in chunks} == {chunks[0].id}


def test_a_bad_call_and_a_backend_error_are_raised(openai_client):
    with pytest.raises(openai.BadRequestError) as raised:
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert raised.value.body["param"] == "messages"
    with pytest.raises(openai.InternalServerError) as failed:
        openai_client.chat.completions.create(**PARAMS, user="emulator:error=overloaded_error")
    assert failed.value.status_code == 503
