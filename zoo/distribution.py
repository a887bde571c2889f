"""Training on several devices or machines with Keras's own engine.

    python -m zoo train vit-cifar10 --distribution data       # a copy per device
    python -m zoo train bert-pretrain --distribution model    # the big kernels split

`data` (data parallel): every device holds the whole model and a slice of each
global batch; the gradients are summed across devices before the update, so a
step equals one step on one device with the whole batch.

- JAX: `keras.distribution.DataParallel` over every device;
- TensorFlow: `tf.distribute.MirroredStrategy` over the GPUs (or, without GPUs,
  every logical CPU).

`model` (model parallel, JAX): the large kernels are split across the devices
of a `model` mesh axis, Megatron style, so a model too big for one device fits:

    query/key/value kernels     (D, H, head_dim)  split by heads   (None, model, None)
    attention_output kernel     (H, head_dim, D)  split by heads   (model, None, None)
    feed-forward in kernel      (D, F)            split by F       (None, model)
    feed-forward out kernel     (F, D)            split by F       (model, None)
    embedding tables            (V, D)            split by width   (None, model)

Each transformer model of the zoo states this in its `get_layout_map(mesh)`
(`zoo.bert.BertBackbone`, `zoo.vit.ViT`, `zoo.translation.TransformerTranslator`);
`--distribution model` uses their union, so every kattn transformer block of
any zoo model is split the same way. The mesh is `(batch=1, model=N)` over
all N devices, so heads, feed-forward width and model width must divide by N.
Smaller weights (biases, LayerNorms) are copied to every device; XLA inserts
the all-reduces. PyTorch: Keras 3 has no `keras.distribution` for torch, so
`data`/`model` raise a ValueError there (use JAX, or TensorFlow for `data`).

Several machines (JAX): start the same command on every host with

    KERAS_DISTRIBUTION_JOB_ADDRESSES=10.0.0.1:1234   # the coordinator, process 0
    KERAS_DISTRIBUTION_NUM_PROCESSES=2
    KERAS_DISTRIBUTION_PROCESS_ID=0                  # 1 on the second host

`make_distribution` then calls `keras.distribution.initialize()` (which calls
`jax.distributed.initialize`) before it lists the devices, so the mesh spans the
devices of every host. Each process feeds its own share of each global batch:
Keras shards a `tf.data.Dataset` itself, and `zoo.training.ShuffledBatches`
yields the process's rows (`data_shard`). Every host must see the same data
files and run with the same `--seed`.

Example, the mesh and layouts `model` uses, on one device:

>>> import keras
>>> from zoo import distribution
>>> mesh = distribution.model_mesh(keras.distribution.list_devices()[:1])
>>> list(mesh.axis_names), tuple(mesh.shape)
(['batch', 'model'], (1, 1))
>>> distribution.zoo_layout_map(mesh)["encoder_block_0/feedforward_output_dense/kernel"].axes
('model', None)
"""

import contextlib
import os

import keras

DISTRIBUTIONS = ("none", "data", "model")
MODEL_AXIS = "model"
BATCH_AXIS = "batch"
MULTI_HOST_VARIABLES = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)

# Variable path pattern (matched whole, `re.fullmatch`) -> how each axis is split.
# Shared by every model built from kattn's transformer blocks.
BLOCK_LAYOUTS = {
    r"(.*/)?(query|key|value)/kernel": (None, MODEL_AXIS, None),  # (D, H, head_dim)
    r"(.*/)?attention_output/kernel": (MODEL_AXIS, None, None),  # (H, head_dim, D)
    r"(.*/)?feedforward_intermediate_dense/kernel": (None, MODEL_AXIS),  # (D, F)
    r"(.*/)?feedforward_output_dense/kernel": (MODEL_AXIS, None),  # (F, D)
    r"(.*/)?\w*embedding/embeddings": (None, MODEL_AXIS),  # (V or T, D)
}


def layout_map(device_mesh, layouts=BLOCK_LAYOUTS):
    """A `keras.distribution.LayoutMap` from `{path pattern: axes}`.

    `device_mesh` must have a `model` axis.
    """
    if not isinstance(device_mesh, keras.distribution.DeviceMesh):
        raise ValueError(
            "`device_mesh` must be a keras.distribution.DeviceMesh; "
            f"received {type(device_mesh).__name__}."
        )
    if MODEL_AXIS not in device_mesh.axis_names:
        raise ValueError(
            f"`device_mesh` must have a {MODEL_AXIS!r} axis; received axes "
            f"{list(device_mesh.axis_names)}."
        )
    result = keras.distribution.LayoutMap(device_mesh)
    for pattern, axes in layouts.items():
        result[pattern] = axes
    return result


def zoo_layout_map(device_mesh):
    """The union of the zoo transformers' `get_layout_map`s (what `model` uses)."""
    from zoo.bert.backbone import BertBackbone
    from zoo.translation.transformer import TransformerTranslator
    from zoo.vit.model import ViT

    layouts = {}
    for model_class in (BertBackbone, ViT, TransformerTranslator):
        for pattern, layout in model_class.get_layout_map(device_mesh).items():
            if pattern in layouts and layouts[pattern] != tuple(layout.axes):
                raise ValueError(f"{model_class.__name__} splits {pattern!r} differently.")
            layouts[pattern] = tuple(layout.axes)
    return layout_map(device_mesh, layouts)


def model_mesh(devices=None):
    """A `(batch=1, model=N)` DeviceMesh over `devices` (default: all of them)."""
    devices = devices or keras.distribution.list_devices()
    return keras.distribution.DeviceMesh(
        shape=(1, len(devices)), axis_names=[BATCH_AXIS, MODEL_AXIS], devices=devices
    )


def initialize_multi_host():
    """`keras.distribution.initialize()` if the KERAS_DISTRIBUTION_* variables are set.

    Returns whether it did. Must run before JAX touches a device.
    """
    if not any(name in os.environ for name in MULTI_HOST_VARIABLES):
        return False
    missing = [name for name in MULTI_HOST_VARIABLES if name not in os.environ]
    if missing:
        raise ValueError(
            f"multi-host training needs all of {', '.join(MULTI_HOST_VARIABLES)}; "
            f"missing {', '.join(missing)}."
        )
    keras.distribution.initialize()
    return True


def make_distribution(distribution):
    """What `--distribution` names, for the current backend.

    Returns None for "none", a `tf.distribute.MirroredStrategy` for "data" on
    TensorFlow, else a `keras.distribution.DataParallel` / `ModelParallel`.
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"`distribution` must be one of {DISTRIBUTIONS}; received {distribution!r}."
        )
    if distribution == "none":
        return None
    backend = keras.backend.backend()
    if backend == "tensorflow" and distribution == "data":
        import tensorflow as tf

        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if backend != "jax":
        supported = "jax or tensorflow" if distribution == "data" else "jax"
        raise ValueError(
            f"`distribution` {distribution!r} needs the {supported} backend "
            f"(Keras has no keras.distribution for it); received backend {backend!r}."
        )
    initialize_multi_host()
    if distribution == "data":
        return keras.distribution.DataParallel()
    mesh = model_mesh()
    return keras.distribution.ModelParallel(layout_map=zoo_layout_map(mesh), batch_dim_name=BATCH_AXIS)


def scope(distribution):
    """A context in which models are built (and trained) with `distribution`.

    `distribution`: "none", "data" or "model", or what `make_distribution` made.
    """
    if isinstance(distribution, str):
        distribution = make_distribution(distribution)
    if distribution is None:
        return contextlib.nullcontext()
    return distribution.scope()


def data_shard():
    """`(index, count)`: this process feeds block `index` of `count` of each global batch.

    `(0, 1)` (all rows) on one host. With several processes each one feeds a
    contiguous block of rows, so the global batch Keras assembles has the
    rows in their original order; processes that hold the same model replica
    (model parallel across hosts) feed the same block. Call it inside the
    distribution's scope.
    """
    current = keras.distribution.distribution()
    if current is None or current.num_processes == 1:
        return 0, 1
    return current.data_shard_id, min(current.num_processes, current.num_model_replicas)


def sharded_variables(model):
    """`{path: axes}` of the model's variables split over the `model` axis."""
    current = keras.distribution.distribution()
    if not isinstance(current, keras.distribution.ModelParallel):
        return {}
    result = {}
    for variable in model.weights:
        layout = current.get_variable_layout(variable)
        if layout is not None and MODEL_AXIS in tuple(layout.axes):
            result[variable.path] = tuple(layout.axes)
    return result
