"""One training step on 2 logical CPU devices vs on 1 device (a subprocess).

Run by tests/zoo/test_distribution.py as
    KERAS_BACKEND=tensorflow python tests/zoo/distributed_step.py classifier
    KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2 \
        python tests/zoo/distributed_step.py classifier bert vit translator
    ... python tests/zoo/distributed_step.py --cli=/tmp/folder   # `zoo train --distribution model`
    KERAS_DISTRIBUTION_...=... python tests/zoo/distributed_step.py --host=vit  # one of 2 processes
For each model named, it builds the model with the same initial weights
under `--distribution none`, `data` and (JAX) `model`, trains one SGD step
on the same global batch and prints one JSON line per model: the devices each
run used, each run's loss, the largest difference between a distributed run's
updated weights and the single-device run's, how far the step moved the
weights, and how one large kernel (named by the end of its path) was laid
out over the devices.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    # Must run before TensorFlow initialises its devices.
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )

import keras  # noqa: E402
import numpy as np  # noqa: E402

from zoo import distribution as distribution_lib  # noqa: E402

GLOBAL_BATCH = 8


def classifier_case(rng):
    from zoo.classifier import EncoderClassifier, data

    def build():
        return EncoderClassifier(
            list(data.FILLER_WORDS + data.COLOURS), list(data.COLOURS),
            sequence_length=12, embedding_dim=8, intermediate_dim=16,
        )

    texts, y = data.first_colour_task(GLOBAL_BATCH, seed=5)
    x = build().tokenize(texts)
    return build, "sparse_categorical_crossentropy", (x, y, None), None


def bert_case(rng):
    from zoo.bert import BertBackbone, BertPretrainer

    vocabulary, length, masked = 64, 12, 3

    def build():
        backbone = BertBackbone(
            vocabulary, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32,
            max_sequence_length=length, dropout=0.1,
        )
        return BertPretrainer(backbone)

    padding = np.ones((GLOBAL_BATCH, length), "int32")
    padding[:, -2:] = 0  # two padded positions per row
    x = {
        "token_ids": rng.integers(4, vocabulary, (GLOBAL_BATCH, length)).astype("int32") * padding,
        "segment_ids": (np.arange(length) >= length // 2).astype("int32")[None].repeat(GLOBAL_BATCH, 0),
        "padding_mask": padding,
        "mask_positions": np.sort(rng.choice(length - 2, (GLOBAL_BATCH, masked)), axis=1).astype("int32"),
    }
    y = {"mlm": rng.integers(4, vocabulary, (GLOBAL_BATCH, masked)).astype("int32"),
         "nsp": rng.integers(0, 2, (GLOBAL_BATCH,)).astype("int32")}
    weights = {"mlm": np.ones((GLOBAL_BATCH, masked), "float32"), "nsp": np.ones(GLOBAL_BATCH, "float32")}
    loss = {"mlm": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "nsp": keras.losses.SparseCategoricalCrossentropy(from_logits=True)}
    return build, loss, (x, y, weights), "transformer_layer_0/self_attention_layer/query/kernel"


def vit_case(rng):
    from zoo.vit import ViT

    def build():
        return ViT(8, 4, num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=32,
                   num_classes=3, channels=1, dropout=0.1, pixel_mean=128.0, pixel_std=64.0)

    x = rng.integers(0, 256, (GLOBAL_BATCH, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, (GLOBAL_BATCH,)).astype("int32")
    return build, "sparse_categorical_crossentropy", (x, y, None), "encoder_block_0/feedforward_intermediate_dense/kernel"


def translator_case(rng):
    from zoo.translation import TransformerTranslator, tokenizers
    from zoo.translation.training import MaskedCrossEntropy

    pairs = [("3 May 1979", "1979-05-03"), ("12 June 2001", "2001-06-12"),
             ("1 Jan 1990", "1990-01-01"), ("30 Oct 1888", "1888-10-30")] * 2
    chars = tokenizers.CharacterTokenizer.from_texts([text for pair in pairs for text in pair])

    def build():
        model = TransformerTranslator(chars, chars, source_length=14, target_length=11,
                                      num_layers=1, num_heads=2, hidden_dim=16,
                                      intermediate_dim=32, dropout=0.1)
        model.build()
        return model

    x, y = build().make_arrays(pairs)
    return build, MaskedCrossEntropy(), (x, y, None), "decoder_block_0/cross_attention/key/kernel"


CASES = {"classifier": classifier_case, "bert": bert_case, "vit": vit_case, "translator": translator_case}


def devices_used(model):
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync
    current = keras.distribution.distribution()
    return 1 if current is None else int(np.size(current.device_mesh.devices))


def layout(variable):
    """The JAX sharding of `variable`: spec and the shapes of its shards."""
    value = variable.value
    spec = getattr(value.sharding, "spec", None)  # None on a single device
    return {
        "spec": None if spec is None else list(spec),
        "shard_shapes": sorted({tuple(shard.data.shape) for shard in value.addressable_shards}),
        "shards": len(value.addressable_shards),
        "shape": list(variable.shape),
    }


def one_step(distribution, build, loss, batch, initial_weights, kernel_path):
    """Loss and updated weights after one SGD step on the global batch."""
    x, y, sample_weight = batch
    keras.utils.set_random_seed(1)  # the same dropout masks in every run
    with distribution_lib.scope(distribution):
        model = build()
        model.set_weights(initial_weights)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss)
        history = model.fit(x, y, sample_weight=sample_weight, batch_size=GLOBAL_BATCH,
                            epochs=1, shuffle=False, verbose=0)
        count = devices_used(model)
        kernel = None
        if kernel_path is not None and keras.backend.backend() == "jax":
            kernel = layout(next(v for v in model.weights if v.path.endswith(kernel_path)))
    weights = [np.asarray(keras.ops.convert_to_numpy(w)) for w in model.weights]
    return float(history.history["loss"][0]), weights, count, kernel


def run(name):
    rng = np.random.default_rng(0)
    build, loss, batch, kernel_path = CASES[name](rng)
    keras.utils.set_random_seed(0)
    # Nudged away from the initialisers' zeros and ones (e.g. ViT's zero head,
    # whose loss would be log(classes) on any device).
    initial = [w + 0.05 * rng.standard_normal(w.shape).astype(w.dtype) for w in build().get_weights()]
    distributions = ["none", "data"] + (["model"] if keras.backend.backend() == "jax" else [])
    runs = {d: one_step(d, build, loss, batch, initial, kernel_path) for d in distributions}
    single = runs["none"][1]
    return {
        "model": name,
        "backend": keras.backend.backend(),
        "devices": {d: r[2] for d, r in runs.items()},
        "loss": {d: r[0] for d, r in runs.items()},
        "max_difference": {
            d: max(float(np.max(np.abs(a - b))) for a, b in zip(single, r[1]))
            for d, r in runs.items() if d != "none"
        },
        "max_update": max(float(np.max(np.abs(a - b))) for a, b in zip(single, initial)),
        "kernel": {d: r[3] for d, r in runs.items()},
    }


def command_line(output):
    """`python -m zoo train classifier --quick --distribution model` in this process."""
    from zoo import cli, training

    args = cli.build_parser().parse_args(["train", "classifier", "--distribution", "model"])
    made = {name: distribution_lib.make_distribution(name) for name in ("data", "model")}
    seen = {}

    class Inspect(keras.callbacks.Callback):  # how the recipe's model was laid out
        def on_train_end(self, logs=None):
            seen.update(distribution_lib.sharded_variables(self.model))

    result = training.train("classifier", cli_options(args), output=output,
                            workdir=output + "-training", distribution=args.distribution,
                            callbacks=[Inspect()], verbose=0)
    return {
        "model": "command_line",
        "parsed": args.distribution,
        "made": {name: [type(d).__name__, list(d.device_mesh.axis_names), list(d.device_mesh.shape)]
                 for name, d in made.items()},
        "sharded": {path.split("/", 1)[-1]: axes for path, axes in seen.items()},
        "metrics": result.metrics,
        "exit_code": cli.main(["train", "classifier", "--quick", "--epochs", "1",
                               "--distribution", "model", "--output", output + "-cli"]),
    }


def one_host_of_two(name):
    """One step of `--distribution data` as one of several processes (hosts).

    The KERAS_DISTRIBUTION_* variables name the processes; each has one
    device, feeds its rows of the global batch (`ShuffledBatches`), and the
    step must equal one device fed the whole batch.
    """
    from zoo import training

    hosts = distribution_lib.make_distribution("data")  # keras.distribution.initialize(): before any JAX work
    rng = np.random.default_rng(0)
    build, loss, (x, y, _), _ = CASES[name](rng)
    keras.utils.set_random_seed(0)
    initial = [w + 0.05 * rng.standard_normal(w.shape).astype(w.dtype) for w in build().get_weights()]
    keras.utils.set_random_seed(1)
    with distribution_lib.scope(hosts):
        hosts.auto_shard_dataset = False  # ShuffledBatches hands each process its rows
        model = build()
        model.set_weights(initial)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss)
        batches = training.ShuffledBatches((x, y), GLOBAL_BATCH, seed=0)
        rows = len(batches[0][1])
        history = model.fit(batches, epochs=1, verbose=0)
        weights = [np.asarray(keras.ops.convert_to_numpy(w)) for w in model.weights]
    order = batches.order  # the global batch's rows, as both hosts together fed them
    single_loss, single, _, _ = one_step("none", build, loss, (x[order], y[order], None), initial, None)
    return {
        "model": name,
        "processes": hosts.num_processes,
        "process": int(os.environ["KERAS_DISTRIBUTION_PROCESS_ID"]),
        "devices": int(np.size(hosts.device_mesh.devices)),
        "rows_fed": rows,
        "loss": [float(history.history["loss"][0]), single_loss],
        "max_difference": max(float(np.max(np.abs(a - b))) for a, b in zip(single, weights)),
        "max_update": max(float(np.max(np.abs(a - b))) for a, b in zip(single, initial)),
    }


def cli_options(args):
    from zoo import recipes

    return recipes.Options(epochs=1, quick=True, seed=args.seed)


def main():
    for name in sys.argv[1:]:
        if name.startswith("--host="):
            print(json.dumps(one_host_of_two(name[len("--host="):])), flush=True)
        elif name.startswith("--cli="):
            print(json.dumps(command_line(name[len("--cli="):])), flush=True)
        else:
            print(json.dumps(run(name)), flush=True)


if __name__ == "__main__":
    main()
