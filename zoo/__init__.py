"""kattn model zoo: models built from kattn layers, their data, training and presets."""
