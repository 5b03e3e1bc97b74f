"""`models.list` and `models.retrieve` of both official Python SDKs against batchd."""

# python-sdks.test.ts gives the fake OpenAI-compatible server (gpu-*) and the fake Anthropic API (sonnet-*) one model each.
LISTED = ["gpu-chat", "sonnet-chat"]


def test_both_sdks_list_the_models_the_backends_serve_by_name(client, openai_client):
    assert [model.id for model in openai_client.models.list()] == LISTED
    assert [model.owned_by for model in openai_client.models.list()] == ["gpu", "claude"]
    assert [model.id for model in client.models.list(limit=1)] == LISTED
    assert client.models.retrieve("sonnet-chat").display_name == "Sonnet Chat"


def test_a_model_a_pattern_serves_is_retrieved_with_its_backend(client, openai_client):
    assert openai_client.models.retrieve("claude-batch-x").owned_by == "claude-batch"
    # The emulator serves every other model by pattern (a model no backend serves is 404: test/models.test.ts).
    assert client.models.retrieve("any-model").id == "any-model"
