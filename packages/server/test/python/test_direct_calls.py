"""`embeddings.create`, `completions.create` and `responses.create` of the official Python SDK, one call each, against batchd."""

import openai
import pytest


def test_embeddings_from_the_emulator_and_an_openai_compatible_server(openai_client):
    # python-sdks.test.ts routes gpu-* models to a fake OpenAI-compatible server, others to the emulator.
    emulated = openai_client.embeddings.create(model="text-embedding-3-small", input=["same text", "other"])
    assert [len(item.embedding) for item in emulated.data] == [8, 8]
    served = openai_client.embeddings.create(model="gpu-embed", input="hello")
    assert served.data[0].embedding == [5, ord("h"), 0.25]


def test_a_completion_and_a_response(openai_client):
    completion = openai_client.completions.create(model="gpu-text", prompt="Once upon", max_tokens=8)
    assert completion.choices[0].text == "completed: Once upon"
    response = openai_client.responses.create(model="gpt-4o-mini", instructions="Be brief.", input="Hello there")
    assert response.status == "completed"
    assert "Hello there" in response.output_text


def test_a_streamed_response_is_refused_naming_stream(openai_client):
    with pytest.raises(openai.BadRequestError) as raised:
        openai_client.responses.create(model="gpt-4o-mini", input="x", stream=True)
    assert raised.value.body["param"] == "stream"
