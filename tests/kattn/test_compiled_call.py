"""kattn.compiled_call: blocks run as one XLA computation when traced
on TensorFlow, give the same numbers as the plain call, and stay eager when
called eagerly."""

import keras
import numpy as np
import pytest

import kattn
from kattn import config
from kattn.compiled_call import MAX_LENGTH
from kattn.compiled_call import MAX_WIDTH
from kattn.compiled_call import CompiledCall
from tests.conftest import to_numpy

ON_TF = keras.backend.backend() == "tensorflow"


@pytest.fixture(autouse=True)
def _default_block_compilation():
    config.set_block_compilation("auto")
    yield
    config.set_block_compilation("auto")


def test_unknown_mode_is_a_value_error_naming_the_argument():
    with pytest.raises(ValueError, match="`mode` must be one of .*received 'always'"):
        config.set_block_compilation("always")
    assert config.block_compilation() == "auto"


def test_eager_calls_are_never_compiled():
    double = CompiledCall(lambda x: 2 * x)
    assert to_numpy(double(np.ones((3,), "float32"))).tolist() == [2.0, 2.0, 2.0]
    assert double.compiled is None


@pytest.mark.skipif(not ON_TF, reason="XLA block compilation is TensorFlow-only")
def test_only_traced_static_large_enough_calls_compile():
    import tensorflow as tf

    def compiled_after(call_with, config_mode="auto"):
        config.set_block_compilation(config_mode)
        double = CompiledCall(lambda x: 2 * x, max_width=MAX_WIDTH, max_length=MAX_LENGTH)
        result = call_with(double)
        return double.compiled is not None, result

    large = tf.ones((8, 64, 128))  # 65,536 numbers: the threshold
    static = tf.function(lambda f: f(large))
    assert compiled_after(static)[0]
    assert float(tf.reduce_sum(compiled_after(static)[1])) == 2 * 65_536
    # Unknown sizes while tracing (Keras' trace once batch shapes vary): plain.
    unknown = lambda f: tf.function(f, input_signature=[tf.TensorSpec((None, 64, 128))])(large)
    assert not compiled_after(unknown)[0]
    # Too small to pay for a compilation, or too wide or long: plain.
    for shape in [(2, 3, 4), (2, 64, 512), (2, 512, 64)]:
        assert not compiled_after(tf.function(lambda f: f(tf.ones(shape))))[0]
    # Turned off.
    assert not compiled_after(static, config_mode="off")[0]
    # Without the blocks' caps (as kattn.dropout uses it), any large enough shape compiles.
    config.set_block_compilation("auto")
    uncapped = CompiledCall(lambda x: 2 * x)
    tf.function(lambda: uncapped(tf.ones((2, 4, 512, 64))))()
    assert uncapped.compiled is not None


@pytest.mark.skipif(ON_TF, reason="checks the other backends")
def test_other_backends_never_compile():
    double = CompiledCall(lambda x: 2 * x)
    assert not double.should_compile(np.ones((8, 64, 128), "float32"))


@pytest.fixture
def compile_any_size(monkeypatch):
    """Let the tiny test models compile (real ones pass the size threshold)."""
    from kattn import compiled_call

    monkeypatch.setattr(compiled_call, "MIN_ELEMENTS", 1)


def _encoder_model(norm_first):
    ids = keras.Input((None,), dtype="int32")
    x = kattn.layers.TokenAndPositionEmbedding(50, 16, sequence_length=12, mask_zero=True)(ids)
    for _ in range(2):
        x = kattn.layers.TransformerEncoderBlock(2, 32, dropout=0.0, norm_first=norm_first)(x)
    return keras.Model(ids, keras.layers.Dense(3)(x[:, 0]))


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_blocks_train_alike_compiled_or_not(norm_first, compile_any_size):
    """Same weights, same batches: a few `fit` steps with compiled blocks and
    with plain ones end at the same weights (XLA only reorders float32 sums)."""
    ids = np.array([[3, 4, 5, 0, 0, 0], [7, 8, 9, 10, 11, 0]] * 4, "int32")
    labels = np.arange(8) % 3
    models = []
    for mode in ("auto", "off"):
        config.set_block_compilation(mode)
        keras.utils.set_random_seed(1)
        model = _encoder_model(norm_first)
        model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(ids, labels, batch_size=4, epochs=2, shuffle=False, verbose=0)
        models.append(model)
        compiled = [layer._compiled_block.compiled for layer in model.layers
                    if isinstance(layer, kattn.layers.TransformerEncoderBlock)]
        assert all((c is not None) == (mode == "auto" and ON_TF) for c in compiled)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-5)
    # The padding mask reached the compiled blocks: changing a padded id
    # changes nothing.
    changed = ids.copy()
    changed[0, 4] = 0
    np.testing.assert_allclose(models[0].predict(ids, verbose=0), models[0].predict(changed, verbose=0), atol=1e-6)


@pytest.mark.skipif(not ON_TF, reason="counts TensorFlow traces")
def test_decoder_cache_steps_reuse_one_compiled_trace(compile_any_size):
    import tensorflow as tf

    block = kattn.layers.TransformerDecoderBlock(2, 16, cross_attention=False)
    target = np.random.rand(1, 4, 8).astype("float32")
    full = to_numpy(block(target))

    @tf.function
    def step(token, cache, index):
        return block(token, self_attention_cache=cache, self_attention_cache_update_index=index)

    cache = tf.zeros((1, 2, 4, 2, 4))
    outputs = []
    for index in range(4):
        output, cache = step(target[:, index:index + 1], cache, tf.constant(index))
        outputs.append(to_numpy(output))
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), full, atol=1e-5)
    assert block._compiled_block.compiled.experimental_get_tracing_count() == 1


@pytest.mark.skipif(not ON_TF, reason="XLA block compilation is TensorFlow-only")
def test_training_with_dropout_compiles_and_draws_new_masks(compile_any_size):
    """Dropout runs inside the XLA computation (kattn.dropout's hashed masks):
    each step draws new masks, and about `rate` of the FFN activations drop."""
    import tensorflow as tf

    block = kattn.layers.TransformerEncoderBlock(2, 16, dropout=0.5)
    x = tf.random.stateless_normal((8, 6, 8), seed=(1, 2))
    train = tf.function(lambda x: block(x, training=True))
    first, second = to_numpy(train(x)), to_numpy(train(x))
    assert block._compiled_block.compiled is not None
    assert np.abs(first - second).max() > 0.1  # new masks each step
    inference = to_numpy(tf.function(lambda x: block(x, training=False))(x))
    np.testing.assert_allclose(inference, to_numpy(block(x)), atol=1e-5)  # no dropout at inference
    # From the same seed states, the uncompiled block drops the same elements.
    states = [v for v in block.variables if "seed_generator_state" in v.path]
    assert len(states) == 4  # attention weights, after attention, inside and after the FFN
    saved = [v.numpy() for v in states]
    compiled = to_numpy(train(x))
    for variable, value in zip(states, saved):
        variable.assign(value)
    config.set_block_compilation("off")
    plain = to_numpy(tf.function(lambda x: block(x, training=True))(x))
    np.testing.assert_allclose(compiled, plain, atol=1e-5)


@pytest.mark.skipif(not ON_TF, reason="XLA block compilation is TensorFlow-only")
def test_blocks_inside_a_jit_compiled_step_are_not_compiled_again():
    """`model.compile(jit_compile=True)` compiles the whole step; a block
    compiled again inside it made every step recompile (20 s a step)."""
    import tensorflow as tf

    double = CompiledCall(lambda x: 2 * x)
    large = tf.ones((8, 64, 128))
    outer = tf.function(lambda x: double(x), jit_compile=True)
    assert float(tf.reduce_sum(outer(large))) == 2 * 65_536
    assert double.compiled is None
    assert float(tf.reduce_sum(tf.function(lambda x: double(x))(large))) == 2 * 65_536
    assert double.compiled is not None


@pytest.mark.skipif(not ON_TF, reason="XLA block compilation is TensorFlow-only")
@pytest.mark.parametrize("make_block", [
    lambda dtype: kattn.layers.TransformerEncoderBlock(2, 32, dtype=dtype),
    lambda dtype: kattn.layers.TransformerDecoderBlock(2, 32, cross_attention=False, dtype=dtype),
], ids=["encoder", "decoder"])
def test_blocks_compile_in_float32_only(make_block):
    """Under mixed precision a block runs plain: XLA's CPU matmuls do not use
    bfloat16 instructions, oneDNN's do (see kattn.compiled_call)."""
    import tensorflow as tf

    x = tf.ones((8, 64, 128))  # 65,536 numbers: large enough to compile
    for policy, compiles in [("float32", True), ("mixed_bfloat16", False), ("mixed_float16", False)]:
        block = make_block(policy)
        output = tf.function(lambda x: block(x, training=True))(x)
        assert keras.backend.standardize_dtype(output.dtype) == keras.mixed_precision.Policy(policy).compute_dtype
        assert (block._compiled_block.compiled is not None) == compiles, policy
    # The rule itself, on a bare CompiledCall.
    only_float32 = CompiledCall(lambda x: 2 * x, only_float32=True)
    tf.function(lambda: only_float32(tf.ones((8, 64, 128), "bfloat16")))()
    assert only_float32.compiled is None
    tf.function(lambda: only_float32(tf.ones((8, 64, 128))))()
    assert only_float32.compiled is not None
