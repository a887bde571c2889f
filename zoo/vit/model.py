"""The Vision Transformer (Dosovitskiy et al., 2021) from kattn layers.

"Chunk the image into patches, flatten each into an embedding, pass the
sequence through a transformer encoder":

    images (B, H, W, C), raw pixels
      -> (x - pixel_mean) / pixel_std                    normalisation inside the model
      -> PatchEmbedding: N = (H/p)(W/p) patches of p*p*C values -> D,
         a learned class token in front, learned positions added  (B, N + 1, D)
      -> num_layers x pre-norm TransformerEncoderBlock (GELU)     (B, N + 1, D)
      -> LayerNorm                                                (B, N + 1, D)
      -> the class token's vector                                 (B, D)
      -> [optional pre-logits Dense + tanh, the paper's "representation"]
      -> Dense(num_classes) -> softmax                            (B, num_classes)

Named sizes with the paper's widths, depths and heads: `vit_tiny` (192, 12,
3), `vit_small` (384, 12, 6), `vit_base` (768, 12, 12). A model trained at one
resolution is fine-tuned at another with `resize_model`, which interpolates
the grid of position embeddings (the class token's position is kept).

Example:

>>> import numpy as np
>>> from zoo.vit import ViT
>>> model = ViT(image_size=8, patch_size=2, num_layers=1, num_heads=2,
...             hidden_dim=16, mlp_dim=32, num_classes=10, channels=1)
>>> model.predict(np.zeros((2, 8, 8, 1)), verbose=0).shape
(2, 10)
>>> scores = model.features(np.zeros((2, 8, 8, 1)), return_attention_scores=True)
>>> [tuple(s.shape) for s in scores["attention_scores"]]   # per layer (B, heads, 1 + N, 1 + N)
[(2, 2, 17, 17)]
"""

import keras
import numpy as np
from keras import ops

from kattn import checks
from kattn.layers import PatchEmbedding, TransformerEncoderBlock


def _pair(name, value):
    """`value` as (height, width) from an int or a pair of ints."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"`{name}` must be an int or (height, width); received {value!r}.")
        return tuple(checks.positive_int(name, int(v)) for v in value)
    checks.positive_int(name, value)
    return (value, value)


@keras.saving.register_keras_serializable(package="zoo")
class ViT(keras.Model):
    """Vision Transformer classifier: patches -> pre-norm encoder -> class token.

    Args:
        image_size: int or (height, width) of the input images.
        patch_size: side of the square patches; must divide both image sides.
        num_layers: encoder blocks.
        num_heads: attention heads per block.
        hidden_dim: width D of the token vectors.
        mlp_dim: hidden width of each block's feed-forward network.
        num_classes: classes of the softmax head; None for a feature
            extractor whose `call` returns the pooled class-token vector.
        dropout: dropout rate in the blocks (attention weights, residual
            branches) and on the embeddings.
        channels: image channels (1 for grey-scale, 3 for RGB).
        representation_size: width of the paper's pre-logits layer
            (Dense + tanh on the class token, Hugging Face's "pooler"); None
            for none.
        layer_norm_epsilon: 1e-6 as in the paper and KerasHub; Hugging Face
            checkpoints use 1e-12.
        pixel_mean, pixel_std: a float or one per channel; the model computes
            `(images - pixel_mean) / pixel_std` first, so it takes raw pixels.
            None: images are used as given.
        class_names: optional label names, for `classify`.
        pixel_range: `(low, high)`, the raw pixel values the model was
            trained on, e.g. `(0, 16)` for scikit-learn's digits or
            `(0, 255)` for 8-bit images; `predict` and `classify` refuse
            images with values outside it (a model fed another range answers
            nonsense without a word). None: not checked.

    Call: images `(B, H, W, C)` -> class probabilities `(B, num_classes)`
    (float32), or the pooled vector `(B, D)` when `num_classes` is None.
    `predict` and `classify` also take one-channel images as `(B, H, W)`.
    `features(images, return_attention_scores=True)` also gives every
    block's attention weights, for attention rollout.

    >>> from zoo.vit import ViT
    >>> import numpy as np
    >>> model = ViT(8, 4, num_layers=2, num_heads=2, hidden_dim=8, mlp_dim=16,
    ...             num_classes=3, channels=1, class_names=["a", "b", "c"])
    >>> model.classify(np.zeros((1, 8, 8, 1)))[0] in ("a", "b", "c")
    True
    """

    def __init__(
        self,
        image_size,
        patch_size,
        num_layers,
        num_heads,
        hidden_dim,
        mlp_dim,
        num_classes,
        dropout=0.0,
        channels=3,
        representation_size=None,
        layer_norm_epsilon=1e-6,
        pixel_mean=None,
        pixel_std=None,
        class_names=None,
        pixel_range=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_size = _pair("image_size", image_size)
        self.patch_size = checks.positive_int("patch_size", patch_size)
        for side, name in zip(self.image_size, ("height", "width")):
            if side % self.patch_size:
                raise ValueError(
                    f"`image_size` must be a multiple of `patch_size` in {name}; "
                    f"received image_size={image_size!r} and patch_size={patch_size}."
                )
        self.num_layers = checks.positive_int("num_layers", num_layers)
        self.num_heads = checks.positive_int("num_heads", num_heads)
        self.hidden_dim = checks.positive_int("hidden_dim", hidden_dim)
        self.mlp_dim = checks.positive_int("mlp_dim", mlp_dim)
        self.num_classes = checks.positive_int("num_classes", num_classes, allow_none=True)
        self.dropout = checks.rate("dropout", dropout)
        self.channels = checks.positive_int("channels", channels)
        self.representation_size = checks.positive_int(
            "representation_size", representation_size, allow_none=True
        )
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.pixel_mean = _per_channel("pixel_mean", pixel_mean, self.channels)
        self.pixel_std = _per_channel("pixel_std", pixel_std, self.channels)
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(
                f"`class_names` must have num_classes={num_classes} entries; "
                f"received {len(class_names)}."
            )
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        if pixel_range is not None and (len(pixel_range) != 2 or not pixel_range[0] < pixel_range[1]):
            raise ValueError(f"`pixel_range` must be (low, high) with low < high; received {pixel_range!r}.")
        self.pixel_range = None if pixel_range is None else [float(v) for v in pixel_range]

        self.patch_embedding = PatchEmbedding(
            self.patch_size, self.hidden_dim, use_class_token=True,
            position="learned", dtype=self.dtype_policy, name="patch_embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="embedding_dropout"
        )
        self.blocks = [
            TransformerEncoderBlock(
                self.num_heads, self.mlp_dim, dropout=self.dropout,
                activation="gelu", layer_norm_epsilon=self.layer_norm_epsilon,
                norm_first=True, dtype=self.dtype_policy, name=f"encoder_block_{i}",
            )
            for i in range(self.num_layers)
        ]
        self.encoder_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="encoder_norm"
        )
        self.pre_logits = None
        if self.representation_size is not None:
            self.pre_logits = keras.layers.Dense(
                self.representation_size, activation="tanh",
                dtype=self.dtype_policy, name="pre_logits",
            )
        self.head = None
        if self.num_classes is not None:
            # Zero-initialised as in the paper: training starts from uniform
            # predictions. Softmax in float32 under mixed precision.
            self.head = keras.layers.Dense(
                self.num_classes, kernel_initializer="zeros",
                dtype=self.dtype_policy, name="head",
            )
            self.probabilities = keras.layers.Activation(
                "softmax", dtype="float32", name="probabilities"
            )
        self.build((None, *self.image_size, self.channels))

    # -- building ------------------------------------------------------------

    @property
    def grid_size(self):
        """Patches per column and per row: `(H / p, W / p)`."""
        return (self.image_size[0] // self.patch_size, self.image_size[1] // self.patch_size)

    @property
    def num_tokens(self):
        """Sequence length in the encoder: the class token plus N patches."""
        return 1 + self.grid_size[0] * self.grid_size[1]

    def _check_images_shape(self, shape):
        shape = tuple(shape)
        expected = (None, *self.image_size, self.channels)
        if len(shape) != 4 or shape[-1] != self.channels:
            raise ValueError(
                f"`images` must have shape {expected} (channels={self.channels}); "
                f"received shape {shape}."
            )
        if tuple(shape[1:3]) != self.image_size and None not in shape[1:3]:
            raise ValueError(
                f"`images` must be {self.image_size[0]}x{self.image_size[1]} "
                f"(the model's `image_size`; use `zoo.vit.resize_model` for another "
                f"size); received shape {shape}."
            )

    def build(self, input_shape):
        if self.built:  # built in __init__; loading calls build again
            return
        self._check_images_shape(input_shape)
        batch = input_shape[0]
        tokens_shape = (batch, self.num_tokens, self.hidden_dim)  # (B, 1 + N, D)
        self.patch_embedding.build(tuple(input_shape))
        for block in self.blocks:
            block.build(tokens_shape)
        self.encoder_norm.build(tokens_shape)
        width = self.hidden_dim
        if self.pre_logits is not None:
            self.pre_logits.build((batch, width))
            width = self.representation_size
        if self.head is not None:
            self.head.build((batch, width))
        self.built = True

    # -- forward -------------------------------------------------------------

    def normalize(self, images):
        """`(images - pixel_mean) / pixel_std` in float32, then compute dtype."""
        x = ops.cast(images, "float32")
        if self.pixel_mean is not None:
            x = x - ops.convert_to_tensor(np.array(self.pixel_mean, "float32"))
        if self.pixel_std is not None:
            x = x / ops.convert_to_tensor(np.array(self.pixel_std, "float32"))
        return ops.cast(x, self.compute_dtype)

    def features(self, images, return_attention_scores=False, training=None):
        """The encoder's outputs as a dict.

        Returns:
            `sequence_output`: `(B, 1 + N, D)` after the final LayerNorm
            (Hugging Face's `last_hidden_state`); `pooled_output`: the class
            token `(B, D)`, through the pre-logits layer when there is one
            (Hugging Face's `pooler_output`); with `return_attention_scores`,
            `attention_scores`: one `(B, heads, 1 + N, 1 + N)` per block.
        """
        self._check_images_shape(images.shape)
        x = self.normalize(images)
        x = self.patch_embedding(x)  # (B, 1 + N, D)
        x = self.embedding_dropout(x, training=training)
        scores = []
        for block in self.blocks:
            if return_attention_scores:
                x, block_scores = block(x, return_attention_scores=True, training=training)
                scores.append(block_scores)  # (B, heads, 1 + N, 1 + N)
            else:
                x = block(x, training=training)
        sequence = self.encoder_norm(x)  # (B, 1 + N, D)
        pooled = sequence[:, 0]  # the class token, (B, D)
        if self.pre_logits is not None:
            pooled = self.pre_logits(pooled)  # (B, representation_size)
        outputs = {"sequence_output": sequence, "pooled_output": pooled}
        if return_attention_scores:
            outputs["attention_scores"] = scores
        return outputs

    def call(self, images, training=None):
        pooled = self.features(images, training=training)["pooled_output"]
        if self.head is None:
            return pooled
        return self.probabilities(self.head(pooled))  # (B, num_classes), float32

    def check_images(self, images):
        """Array images as the model takes them, or a ValueError saying what is wrong.

        `(B, H, W)` gets its channel axis when `channels` is 1; values outside
        `pixel_range` are refused. Datasets and generators pass unchecked.

        >>> import numpy as np
        >>> from zoo.vit import ViT
        >>> model = ViT(8, 4, 1, 1, 8, 8, num_classes=2, channels=1, pixel_range=(0, 16))
        >>> model.check_images(np.full((3, 8, 8), 16)).shape
        (3, 8, 8, 1)
        >>> model.check_images(np.full((3, 8, 8), 255))
        Traceback (most recent call last):
        ...
        ValueError: `images` must hold pixel values in 0..16, the range this model was trained on; received values in 255..255. Rescale them to 0..16 first.
        """
        if not isinstance(images, (np.ndarray, list, tuple)) and not ops.is_tensor(images):
            return images
        images = np.asarray(images)
        if images.dtype.kind not in "uif":
            raise ValueError(f"`images` must be numbers; received an array of dtype {images.dtype}.")
        if images.ndim == 3 and self.channels == 1:
            images = images[..., None]  # (B, H, W) -> (B, H, W, 1)
        self._check_images_shape(images.shape)
        if self.pixel_range is not None and images.size:
            low, high = self.pixel_range
            found_low, found_high = float(images.min()), float(images.max())
            if found_low < low or found_high > high:
                raise ValueError(
                    f"`images` must hold pixel values in {low:g}..{high:g}, the range this model was "
                    f"trained on; received values in {found_low:g}..{found_high:g}. "
                    f"Rescale them to {low:g}..{high:g} first."
                )
        return images

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Class probabilities for images `(B, H, W, C)` (or `(B, H, W)` with one channel).

        Arrays are checked first (`check_images`).
        """
        return super().predict(self.check_images(x), batch_size=batch_size, verbose=verbose,
                               steps=steps, callbacks=callbacks)

    def input_description(self):
        """What `predict` takes, for the model card."""
        height, width = self.image_size
        shape = f"`(N, {height}, {width}, {self.channels})`"
        if self.channels == 1:
            shape += f" or `(N, {height}, {width})`"
        values = "any values"
        if self.pixel_range is not None:
            values = (f"pixel values in {self.pixel_range[0]:g}..{self.pixel_range[1]:g} "
                      "(others are refused with a ValueError)")
        returns = f"`(N, {self.num_classes})` class probabilities" if self.head is not None else "features"
        names = f"; `classify(images)` gives the class names {self.class_names}" if self.class_names else ""
        return (f"`predict(images)` takes images {shape}, any numeric dtype, raw {values}; "
                f"the model normalises them itself. It returns {returns}{names}.")

    def classify(self, images, batch_size=256):
        """The name of the most probable class of each image (needs `class_names`)."""
        if self.class_names is None or self.head is None:
            raise ValueError("`classify` needs a model built with `num_classes` and `class_names`.")
        probabilities = self.predict(images, batch_size=batch_size, verbose=0)
        return [self.class_names[i] for i in np.argmax(probabilities, axis=-1)]

    @staticmethod
    def get_layout_map(device_mesh):
        """How `--distribution model` splits a ViT over the mesh's `model` axis.

        The patch projection `(p*p*C, D)` and the position table by width,
        every block's attention kernels by heads and feed-forward kernels by
        inner width; the rest is copied. See `zoo.distribution`.

        >>> import keras
        >>> from zoo.vit import ViT
        >>> mesh = keras.distribution.DeviceMesh((1, 1), ["batch", "model"],
        ...                                      keras.distribution.list_devices()[:1])
        >>> layouts = ViT.get_layout_map(mesh)
        >>> layouts["vi_t/patch_embedding/projection/kernel"].axes
        (None, 'model')
        """
        from zoo import distribution

        layouts = dict(distribution.BLOCK_LAYOUTS)
        layouts[r"(.*/)?patch_embedding/projection/kernel"] = (None, distribution.MODEL_AXIS)
        return distribution.layout_map(device_mesh, layouts)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_size": list(self.image_size),
                "patch_size": self.patch_size,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim,
                "mlp_dim": self.mlp_dim,
                "num_classes": self.num_classes,
                "dropout": self.dropout,
                "channels": self.channels,
                "representation_size": self.representation_size,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "pixel_mean": self.pixel_mean,
                "pixel_std": self.pixel_std,
                "class_names": self.class_names,
                "pixel_range": self.pixel_range,
            }
        )
        return config


def _per_channel(name, value, channels):
    """None, or a list with one float per channel (a scalar is repeated)."""
    if value is None:
        return None
    values = np.atleast_1d(np.asarray(value, dtype="float64")).tolist()
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise ValueError(
            f"`{name}` must be one float or one per channel ({channels}); received {value!r}."
        )
    return [float(v) for v in values]


# ----------------------------------------------------------------------------
# Named sizes (Dosovitskiy et al. 2021, Table 1; Tiny / Small from DeiT)
# ----------------------------------------------------------------------------

SIZES = {
    "vit_tiny": dict(num_layers=12, num_heads=3, hidden_dim=192, mlp_dim=768),
    "vit_small": dict(num_layers=12, num_heads=6, hidden_dim=384, mlp_dim=1536),
    "vit_base": dict(num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072),
}


def vit_tiny(image_size=224, patch_size=16, num_classes=1000, **kwargs):
    """ViT-Ti: 12 blocks of width 192 with 3 heads (5.7M parameters at 224/16).

    >>> from zoo.vit import vit_tiny
    >>> vit_tiny(image_size=32, patch_size=16, num_classes=10).hidden_dim
    192
    """
    return ViT(image_size, patch_size, num_classes=num_classes, **SIZES["vit_tiny"], **kwargs)


def vit_small(image_size=224, patch_size=16, num_classes=1000, **kwargs):
    """ViT-S: 12 blocks of width 384 with 6 heads (22M parameters at 224/16).

    >>> from zoo.vit import vit_small
    >>> vit_small(image_size=32, patch_size=16, num_classes=10).num_heads
    6
    """
    return ViT(image_size, patch_size, num_classes=num_classes, **SIZES["vit_small"], **kwargs)


def vit_base(image_size=224, patch_size=16, num_classes=1000, **kwargs):
    """ViT-B: 12 blocks of width 768 with 12 heads (86M parameters at 224/16).

    >>> from zoo.vit import vit_base
    >>> vit_base(image_size=32, patch_size=16, num_classes=10).mlp_dim
    3072
    """
    return ViT(image_size, patch_size, num_classes=num_classes, **SIZES["vit_base"], **kwargs)


# ----------------------------------------------------------------------------
# Fine-tuning at another resolution
# ----------------------------------------------------------------------------


def interpolate_position_embeddings(positions, old_grid, new_grid):
    """Resize a learned position table from one patch grid to another.

    Args:
        positions: `(1 + old_rows * old_cols, D)`, the class token's position
            first, then the patches row by row.
        old_grid, new_grid: `(rows, cols)` of patches.

    Returns:
        `(1 + new_rows * new_cols, D)`: the class token's row unchanged, the
        patch rows laid out as an image of `D` channels and resized bicubically
        (as in the paper's "2D interpolation of the pre-trained position
        embeddings").

    >>> from zoo.vit.model import interpolate_position_embeddings
    >>> import numpy as np
    >>> table = np.random.default_rng(0).normal(size=(1 + 4 * 4, 8)).astype("float32")
    >>> bigger = interpolate_position_embeddings(table, (4, 4), (6, 6))
    >>> bigger.shape, bool(np.all(bigger[0] == table[0]))
    ((37, 8), True)
    """
    positions = np.asarray(positions, dtype="float32")
    old_rows, old_cols = old_grid
    new_rows, new_cols = new_grid
    if positions.shape[0] != 1 + old_rows * old_cols:
        raise ValueError(
            f"`positions` must have 1 + {old_rows}*{old_cols} rows for old_grid={old_grid}; "
            f"received shape {positions.shape}."
        )
    class_position, grid = positions[:1], positions[1:]
    if (old_rows, old_cols) == (new_rows, new_cols):
        return positions.copy()
    grid = grid.reshape(1, old_rows, old_cols, -1)  # (1, rows, cols, D) as an image
    resized = ops.image.resize(grid, (new_rows, new_cols), interpolation="bicubic", antialias=False)
    resized = np.asarray(ops.convert_to_numpy(resized), "float32").reshape(new_rows * new_cols, -1)
    return np.concatenate([class_position, resized], axis=0)  # (1 + N', D)


def resize_model(model, image_size):
    """A copy of a `ViT` for another image size, positions interpolated.

    Every weight is copied; only the position table changes shape (see
    `interpolate_position_embeddings`). Fine-tune the result at the new size.

    >>> from zoo.vit.model import ViT, resize_model
    >>> small = ViT(8, 2, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=16,
    ...             num_classes=10, channels=1)
    >>> resize_model(small, 12).num_tokens      # 1 + (12 / 2)^2
    37
    """
    config = model.get_config()
    config["image_size"] = list(_pair("image_size", image_size))
    resized = model.__class__.from_config(config)
    old_positions = model.patch_embedding.position_embedding.embeddings
    new_positions = resized.patch_embedding.position_embedding.embeddings
    for source, target in zip(model.weights, resized.weights):
        if target.path == new_positions.path:
            target.assign(
                interpolate_position_embeddings(
                    ops.convert_to_numpy(old_positions), model.grid_size, resized.grid_size
                )
            )
        else:
            target.assign(source)
    return resized
