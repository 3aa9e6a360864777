"""The official `ollama` Python package pulling, copying, creating, pushing and deleting models on
the mock-ollama binary: the start-up pattern of applications that pull their model first."""

import ollama
import pytest


@pytest.fixture
def client(fresh_mock_ollama_url):
    return ollama.Client(host=fresh_mock_ollama_url)


def names(client):
    return {model.model for model in client.list().models}


def test_pull_streams_progress_and_the_model_appears(client):
    assert "mistral:latest" not in names(client)
    progress = list(client.pull("mistral", stream=True))
    assert progress[0].status == "pulling manifest"
    downloads = [p for p in progress if p.digest]
    assert downloads and all(p.status == f"pulling {p.digest[7:19]}" for p in downloads)
    assert downloads[-1].completed == downloads[-1].total
    assert progress[-1].status == "success"
    assert "mistral:latest" in names(client)
    assert client.chat(model="mistral", messages=[{"role": "user", "content": "hi"}]).message.content


def test_pull_without_streaming_returns_success(client):
    assert client.pull("phi3:mini").status == "success"
    assert "phi3:mini" in names(client)


def test_delete_then_list_shows_the_model_gone(client):
    assert "llama3.2:latest" in names(client)
    assert client.delete("llama3.2").status == "success"
    assert "llama3.2:latest" not in names(client)
    with pytest.raises(ollama.ResponseError) as caught:
        client.delete("llama3.2")
    assert caught.value.status_code == 404


def test_copy_and_create_add_models_built_from_existing_ones(client):
    client.copy("llama3.2", "my-llama")
    assert "my-llama:latest" in names(client)
    progress = list(client.create(model="pirate", from_="llama3.2", system="Talk like a pirate.", stream=True))
    assert progress[-1].status == "success"
    assert any(p.status.startswith("using existing layer sha256:") for p in progress)
    assert "pirate:latest" in names(client)
    with pytest.raises(ollama.ResponseError) as caught:
        client.copy("no-such-model", "x")
    assert caught.value.status_code == 404


def test_push_reports_each_layer(client):
    progress = list(client.push("llama3.2", stream=True))
    assert progress[0].status == "retrieving manifest"
    assert progress[-1].status == "success"
