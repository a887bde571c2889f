"""Patch embedding of the Vision Transformer: patches -> tokens (+ class token)."""

import keras
from keras import ops

from kattn import checks
from kattn.layers.patches import Patches
from kattn.layers.patches import check_image_size
from kattn.layers.position_embedding import PositionEmbedding
from kattn.layers.sinusoidal_positional_encoding import SinusoidalPositionalEncoding

POSITIONS = ("learned", "sinusoidal")


@keras.saving.register_keras_serializable(package="kattn")
class PatchEmbedding(keras.layers.Layer):
    """Turn images into a sequence of tokens, as in ViT (Dosovitskiy et al., 2021).

        tokens = Dense(D)(Patches(p)(images))            # (B, N, D)
        tokens = [class_token; tokens]                   # (B, N + 1, D)
        tokens = tokens + positions                      # learned or sinusoidal

    The Dense projection of flattened patches is the same map as ViT's
    `p x p` convolution with stride `p` (its kernel reshaped to
    `(p * p * C, D)`, rows ordered as in `Patches`). Following the original
    ViT, the class token starts at zeros and learned positions at
    `normal(stddev=0.02)`. Learned positions fix the number of patches (and
    so the image size) at build time.

    Args:
        patch_size: side `p` of the square patches.
        embedding_dim: `D`.
        use_class_token: prepend a learned `[CLS]` token (its output is what a
            ViT classifies).
        position: `"learned"` (one vector per token) or `"sinusoidal"`.

    Call arguments:
        images: `(B, H, W, C)`, H and W multiples of `patch_size`.

    Returns:
        `(B, N + 1, D)` with a class token, else `(B, N, D)`.

    Example:

    >>> import numpy as np, kattn
    >>> embed = kattn.layers.PatchEmbedding(patch_size=4, embedding_dim=16)
    >>> tuple(embed(np.zeros((2, 8, 8, 1), "float32")).shape)   # 4 patches + class
    (2, 5, 16)
    """

    def __init__(
        self,
        patch_size,
        embedding_dim,
        use_class_token=True,
        position="learned",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.patch_size = checks.positive_int("patch_size", patch_size)
        self.embedding_dim = checks.positive_int("embedding_dim", embedding_dim)
        self.use_class_token = bool(use_class_token)
        self.position = checks.one_of("position", position, POSITIONS)

    def build(self, images_shape):
        check_image_size(tuple(images_shape), self.patch_size)
        _, height, width, channels = images_shape
        if channels is None:
            raise ValueError(
                "`images` must have a known number of channels; received shape "
                f"{tuple(images_shape)}."
            )
        p = self.patch_size
        policy = self.dtype_policy
        self.patches = Patches(p, dtype=policy, name="patches")
        self.projection = keras.layers.Dense(self.embedding_dim, dtype=policy, name="projection")
        self.projection.build((None, None, p * p * channels))
        if self.use_class_token:
            self.class_token = self.add_weight(
                name="class_token", shape=(1, 1, self.embedding_dim), initializer="zeros"
            )
        tokens = None
        if height is not None and width is not None:
            tokens = (height // p) * (width // p) + int(self.use_class_token)
        self.num_tokens = tokens
        if self.position == "learned":
            if tokens is None:
                raise ValueError(
                    'position="learned" needs a known image size; received '
                    f"`images` shape {tuple(images_shape)}."
                )
            self.position_embedding = PositionEmbedding(
                tokens,
                initializer=keras.initializers.RandomNormal(stddev=0.02),
                dtype=policy,
                name="position_embedding",
            )
            self.position_embedding.build((None, tokens, self.embedding_dim))
        else:
            self.position_embedding = SinusoidalPositionalEncoding(
                dtype=policy, name="position_embedding"
            )

    def call(self, images):
        check_image_size(tuple(images.shape), self.patch_size)
        checks.same_size(
            "number of channels", "images", images.shape[-1],
            "the images this layer was built for",
            self.projection.kernel.shape[0] // self.patch_size**2,
        )
        if self.position == "learned":
            count = None
            if images.shape[1] is not None and images.shape[2] is not None:
                count = (images.shape[1] // self.patch_size) * (images.shape[2] // self.patch_size)
                count += int(self.use_class_token)
            checks.same_size(
                "number of tokens (image size)", "images", count,
                "learned positions", self.num_tokens,
            )
        tokens = self.projection(self.patches(images))  # (B, N, D)
        if self.use_class_token:
            batch = ops.shape(tokens)[0]
            class_token = ops.cast(self.class_token, tokens.dtype)
            class_tokens = ops.broadcast_to(class_token, (batch, 1, self.embedding_dim))
            tokens = ops.concatenate([class_tokens, tokens], axis=1)  # (B, N + 1, D)
        return tokens + self.position_embedding(tokens)

    def compute_output_shape(self, images_shape):
        _, count, _ = Patches(self.patch_size).compute_output_shape(images_shape)
        if count is not None and self.use_class_token:
            count += 1
        return (images_shape[0], count, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "patch_size": self.patch_size,
                "embedding_dim": self.embedding_dim,
                "use_class_token": self.use_class_token,
                "position": self.position,
            }
        )
        return config
