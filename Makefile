# The commands a contributor needs. CI runs `make test` (see .ci/run).
PYTEST = python -m pytest -q -n 2 --durations=15

.PHONY: test test-tf test-jax tutorials bench gpu-data

# Whole suite on TensorFlow, then the layer tests again on JAX.
test: test-tf test-jax

test-tf:
	$(PYTEST) tests

test-jax:
	KERAS_BACKEND=jax $(PYTEST) tests/kattn

# Execute every tutorial and render it with its outputs to docs/tutorials/*.html
tutorials:
	python tutorials/render.py

# Every benchmark; rewrites BENCHMARKS.md. Takes hours on a 2-core CPU.
bench:
	python -m bench all

# What `python3 -m bench gpu` needs on a GPU machine that only gets this checkout:
# CIFAR-10 (18 MB of JPEGs) for its recipe run. Carry .gpu-data (git-ignored).
gpu-data:
	mkdir -p .gpu-data && cp ../shared/data/cifar10/cifar10_jpeg.npz .gpu-data/
