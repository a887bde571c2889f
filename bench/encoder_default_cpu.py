"""The encoder training steps of `bench.encoder`, in TensorFlow's default setting.

    python -m bench encoder_default_cpu            # about 6 minutes on 2 idle cores
    python -m bench encoder_default_cpu --quick    # tiny sizes, checks that it runs

The very same stacks, sizes and timing as `python -m bench encoder`, in a
fresh Python process with `TF_ENABLE_ONEDNN_OPTS=0` (see
`bench._default_cpu`).
"""

from bench._default_cpu import run_without_onednn


def run(quick=False):
    return "\n".join([
        "## Encoder training step in TensorFlow's default CPU setting (oneDNN off)",
        "",
        "The rows of `python -m bench encoder` (section \"Encoder training step: kattn vs "
        "keras_hub\"), run in a subprocess with `TF_ENABLE_ONEDNN_OPTS=0`, TensorFlow's default "
        "on CPUs without AVX-512, such as an AVX2 machine (the header's machine line names the "
        "vector instructions and shows the parent process's setting). The goal of issue #3 is judged on the oneDNN section, where "
        "keras_hub is at its fastest; this one shows what a user gets without setting anything.",
        "",
        run_without_onednn("encoder", quick),
    ])
