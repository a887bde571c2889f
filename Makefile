# The commands a contributor needs. CI runs `make test` (see .ci/run).
PYTEST = python -m pytest -q -n 2 --durations=15

.PHONY: test test-tf test-jax tutorials docs bench gpu-data

# The documentation site (its pages are tested), the whole suite on TensorFlow,
# then the layer tests again on JAX.
test: docs test-tf test-jax

test-tf:
	$(PYTEST) tests

test-jax:
	KERAS_BACKEND=jax $(PYTEST) tests/kattn

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
