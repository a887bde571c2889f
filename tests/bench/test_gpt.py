"""bench.gpt in quick mode: both parts run and, in a process on the suite's
backend, the keras_hub copy and the uncached runs generate our cached tokens."""

import re

import keras

from bench import gpt
from tests.conftest import require_shared_data


def test_quick_run_has_both_parts_and_the_peer_gives_the_same_tokens():
    require_shared_data("wikitext-2/train.txt")
    text = gpt.run(quick=True)
    assert "test perplexity against training tokens" in text
    # ours cached, keras_hub, ours uncached, and the rotary model cached and uncached, in a
    # process on this backend: each gives its model's cached tokens
    assert text.count(f"| {keras.backend.backend()} |") == 5
    assert text.count("| yes |") == 5
    assert "| NO |" not in text
    assert not re.search(r"\{[a-z_]+\}", text), "a placeholder was left unformatted"


def test_every_variable_maps_to_a_keras_hub_name():
    assert gpt._peer_path("gpt/block_3/feedforward_layer_norm/gamma") == (
        "transformer_layer_3/feedforward_layer_norm/gamma")
    assert gpt._peer_path("gpt/embedding/token_embedding/embeddings") == "token_embedding/embeddings"
    assert gpt._peer_path("gpt/final_norm/beta") == "layer_norm/beta"
