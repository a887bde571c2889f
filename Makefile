# The commands a contributor needs. CI runs `make test` (see .ci/run).
PYTEST = python -m pytest -q -n 2 --durations=15

.PHONY: test test-tf test-jax tutorials bench

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
