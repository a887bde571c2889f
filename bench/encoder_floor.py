"""How fast the encoder training step of `bench encoder` could be at best.

For each size of `python -m bench encoder`, one TensorFlow function runs the
matrix products of the step and nothing else: the forward products of the 4
blocks (the fused query/key/value projection, the two attention products, the
output projection, the two feed-forward layers), then, for each, the two
products of its gradient (`dA = dC B^T`, `dB = A^T dC`), except the gradient
of the first block's input, which nothing needs. The tensors are random and of
the step's shapes. No LayerNorm, softmax, bias, activation, residual add or
optimizer update runs.

A second function runs only the Adam update the step ends with: the same
`keras.optimizers.Adam(1e-4)` over variables of the model's shapes, with
random gradients. Both models train with that optimizer on the same number of
weights, so its cost is the same for both, whatever the blocks do.

Any implementation of these blocks has to compute these products and pay for
that update, whatever it does around them. keras_hub's step time divided by
their sum is then the largest speed-up that anything other than faster
products or a cheaper optimizer can give, and keras_hub's time / 1.1 minus
that sum is what a 1.1x faster step would leave for everything else
(LayerNorm, softmax, bias, activation, residual adds, head transposes,
scheduling). The products do not wait for one another here, so TensorFlow may
run two side by side: if anything, the floor is too low and the bound too
generous.

A third function runs only the step's elementwise math, forward and backward,
with TensorFlow's kernels: the softmax of every block's attention scores, the
8 LayerNorms and the 4 feed-forward bias-and-ReLUs. It is not a floor (a fused
kernel could do it faster) but shows how much of the remainder is that math.

    python -m bench encoder_floor            # the four sizes of bench encoder
    python -m bench encoder_floor --quick    # tiny sizes, to check it runs
"""

import keras
import numpy as np

from bench import _timing
from bench import common
from bench import encoder


def products(batch, length, width):
    """`(A, B, transpose_a, transpose_b)` of every product of one training step.

    Shapes, with N = batch x length tokens, D = width, H heads of 64, F = 4 D:
    projections `(N, D) x (D, 3D)`, `(N, D) x (D, D)`, `(N, D) x (D, F)`,
    `(N, F) x (F, D)`; attention `(B H, T, 64) x (B H, 64, T)` and
    `(B H, T, T) x (B H, T, 64)`.
    """
    import tensorflow as tf

    tokens, heads = batch * length, width // encoder.HEAD_DIM
    forward = [  # (A shape, B shape, transpose_b)
        ((tokens, width), (width, 3 * width), False),  # fused query/key/value
        ((batch * heads, length, encoder.HEAD_DIM), (batch * heads, length, encoder.HEAD_DIM), True),  # Q K^T
        ((batch * heads, length, length), (batch * heads, length, encoder.HEAD_DIM), False),  # P V
        ((tokens, width), (width, width), False),  # output projection
        ((tokens, width), (width, 4 * width), False),  # feed-forward, first layer
        ((tokens, 4 * width), (4 * width, width), False),  # feed-forward, second layer
    ]
    result = []
    for block in range(encoder.NUM_BLOCKS):
        for index, (a_shape, b_shape, transpose_b) in enumerate(forward):
            a, b = tf.random.normal(a_shape), tf.random.normal(b_shape)
            result.append((a, b, False, transpose_b))
            c_shape = a_shape[:-1] + (b_shape[-2] if transpose_b else b_shape[-1],)
            dc = tf.random.normal(c_shape)
            if not (block == 0 and index == 0):  # the first block's input needs no gradient
                result.append((dc, b, False, not transpose_b))  # dA = dC B^T  (or dC B)
            if transpose_b:
                result.append((dc, a, True, False))  # dB = dC^T A
            else:
                result.append((a, dc, True, False))  # dB = A^T dC
    return result


def products_step(operands):
    """A callable running every product of `operands` (from `products`) once, in one TensorFlow graph."""
    import tensorflow as tf

    @tf.function
    def run_all():
        return [tf.matmul(a, b, transpose_a=ta, transpose_b=tb) for a, b, ta, tb in operands]

    def step():
        outputs = run_all()
        outputs[-1].numpy()  # wait for the graph

    return step


def elementwise_step(batch, length, width):
    """A callable running the step's softmaxes, LayerNorms and bias-and-ReLUs, forward and backward."""
    import tensorflow as tf

    tokens, heads = batch * length, width // encoder.HEAD_DIM
    blocks = range(encoder.NUM_BLOCKS)
    scores = [tf.random.normal((batch * heads, length, length)) for _ in blocks]
    layer_norm_inputs = [tf.random.normal((tokens, width)) for _ in blocks for _ in range(2)]
    hidden = [tf.random.normal((tokens, 4 * width)) for _ in blocks]
    norms = [keras.layers.LayerNormalization(epsilon=1e-5) for _ in layer_norm_inputs]
    for norm in norms:
        norm.build((tokens, width))
    biases = [keras.Variable(np.zeros(4 * width, "float32")) for _ in blocks]
    sources = scores + layer_norm_inputs + hidden + biases + [w for norm in norms for w in norm.trainable_weights]
    upstream = [tf.random.normal(x.shape) for x in scores + layer_norm_inputs + hidden]  # the outputs' gradients

    @tf.function
    def run_all():
        with tf.GradientTape() as tape:
            tape.watch(scores + layer_norm_inputs + hidden)
            outputs = [tf.nn.softmax(s) for s in scores]
            outputs += [norm(x) for norm, x in zip(norms, layer_norm_inputs)]
            outputs += [tf.nn.relu(h + b) for h, b in zip(hidden, biases)]
        return tape.gradient(outputs, sources, output_gradients=upstream)  # every gradient, so none is pruned

    def step():
        run_all()[0].numpy()  # wait for the graph

    return step


def adam_update_step(model):
    """A callable running one `Adam(1e-4)` update of variables shaped like `model`'s trainable weights."""
    import tensorflow as tf

    variables = [keras.Variable(np.zeros(v.shape, "float32")) for v in model.trainable_weights]
    gradients = [tf.random.normal(v.shape) for v in variables]
    optimizer = keras.optimizers.Adam(1e-4)
    optimizer.build(variables)

    @tf.function
    def update():
        optimizer.apply_gradients(zip(gradients, variables))
        return optimizer.iterations

    def step():
        update().numpy()  # wait for the graph

    return step


def count_flops(operands):
    """Floating-point operations of the products in `operands` (2 per multiply-add)."""
    total = 0
    for a, b, transpose_a, transpose_b in operands:
        rows = a.shape[-1] if transpose_a else a.shape[-2]
        inner = a.shape[-2] if transpose_a else a.shape[-1]
        columns = b.shape[-2] if transpose_b else b.shape[-1]
        total += 2 * int(np.prod(a.shape[:-2])) * rows * inner * columns
    return total


def run(quick=False):
    if quick:
        configs, rounds = [(64, 32, 4)], 3
    else:
        configs, rounds = [(256, 128, 8), (256, 512, 2), (512, 128, 4), (512, 512, 1)], 30
    rng = np.random.default_rng(0)
    rows = []
    for width, length, batch in configs:
        keras.utils.set_random_seed(0)
        models = encoder.build_models(length, width)
        x = rng.normal(size=(batch, length, width)).astype("float32")
        y = rng.normal(size=(batch, length, width)).astype("float32")
        encoder.trace_without_block_compilation(models["kattn, blocks not compiled"], x, y)
        steps = {name: (lambda model=models[name]: model.train_on_batch(x, y))
                 for name in ("keras_hub", "kattn", "kattn, blocks not compiled")}
        operands = products(batch, length, width)
        steps["matrix products only"] = products_step(operands)
        steps["Adam update only"] = adam_update_step(models["keras_hub"])
        steps["elementwise math only"] = elementwise_step(batch, length, width)
        seconds = _timing.interleaved(steps, rounds)  # in turns, after 2 warm-up calls each
        fastest = {name: min(values) for name, values in seconds.items()}
        hub, products_time = fastest["keras_hub"], fastest["matrix products only"]
        floor = products_time + fastest["Adam update only"]
        rows.append([
            width, length, batch,
            f"{1e3 * hub:.1f}", f"{1e3 * fastest['kattn']:.1f}",
            f"{1e3 * fastest['kattn, blocks not compiled']:.1f}", f"{1e3 * products_time:.1f}",
            f"{count_flops(operands) / products_time / 1e9:.0f}", f"{1e3 * fastest['Adam update only']:.1f}",
            f"{hub / fastest['kattn']:.2f}x", f"{hub / fastest['kattn, blocks not compiled']:.2f}x",
            f"{hub / products_time:.2f}x", f"**{hub / floor:.2f}x**",
            f"{1e3 * (hub - floor):.1f}", f"**{1e3 * (hub / 1.1 - floor):.1f}**",
            f"{1e3 * fastest['elementwise math only']:.1f}",
        ])
        print(rows[-1], flush=True)
    header = ["d_model", "length", "batch", "keras_hub ms", "kattn ms", "kattn, blocks not compiled ms",
              "matrix products only ms", "their GFLOP/s", "Adam update only ms", "kattn speed-up",
              "kattn speed-up, blocks not compiled", "keras_hub / products",
              "largest possible speed-up (keras_hub / (products + Adam))",
              "keras_hub's time for everything else ms", "time left for everything else at 1.1x ms",
              "softmax, LayerNorm, bias and ReLU alone ms"]
    return "\n".join([
        "## Encoder training step: how much of it is matrix products and the Adam update",
        "",
        f"The models and batches of `python -m bench encoder` ({encoder.NUM_BLOCKS} post-norm blocks, "
        f"FFN 4 x d_model, heads of {encoder.HEAD_DIM}, float32, Adam), beside one TensorFlow function "
        "that runs only the step's matrix products on random tensors of the same shapes (forward, "
        "and both products of each gradient) and one that runs only the step's Adam update "
        "(the bench's `Adam(1e-4)` over variables of the model's shapes). Every implementation "
        "must compute these products and, trained with this optimizer, pay for this update; "
        "keras_hub's step time over their sum is the largest speed-up that any change other than "
        "faster products or a cheaper optimizer could give. The two \"everything else\" columns are what is "
        "left for LayerNorm, softmax, bias, activation, residual adds, head transposes and scheduling: "
        "in keras_hub's step, and in a step 1.1x faster than keras_hub's. The last column times "
        "the part of that which is elementwise math (every softmax, LayerNorm and bias-and-ReLU of "
        "the step, forward and backward, with TensorFlow's kernels). Each time is the fastest "
        f"of {rounds} calls taken in turns.",
        "",
        common.table(header, rows),
    ])
