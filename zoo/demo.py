"""`python -m zoo demo`: watch a small attention model learn, in about a minute.

The model (`zoo.classifier.EncoderClassifier`: embedding, one transformer
encoder block, attention pooling) reads generated sentences such as
"the cat saw blue then a red car" and must name the colour that comes
first. A bag of words cannot do better than a coin toss here; the demo shows
the accuracy it reaches and where its attention pooling looks.

    python -m zoo demo
"""

import time

import numpy as np

from zoo import recipes
from zoo import training
from zoo.classifier import data

EPOCHS = 4


def main():
    """Train, report accuracy, and print each word's attention weight."""
    started = time.time()
    run = recipes.get("classifier").build(recipes.Options(seed=0))
    model = run.model
    print(f"Task: name the first colour word. Data: {run.data}.")
    print(f"Model: {model.count_params():,} parameters. Training {EPOCHS} epochs...")
    batches = training.ShuffledBatches(run.train, run.batch_size, seed=0)
    model.fit(batches, validation_data=run.validation, epochs=EPOCHS,
              callbacks=[batches.epoch_callback()], verbose=2)
    accuracy = run.evaluate(model)["accuracy"]
    print(f"\nTest accuracy: {accuracy:.1%} (a bag of words: 50%) "
          f"after {time.time() - started:.0f} s.\n")

    print("Where the attention pooling looks (weight per word, the top word in [brackets]):")
    texts, labels = data.first_colour_task(4, seed=1234)
    for text, label, predicted, words in zip(
        texts, labels, model.classify(texts), model.explain(texts)
    ):
        top = int(np.argmax([weight for _, weight in words]))
        shown = " ".join(
            f"[{word} {weight:.2f}]" if i == top else word for i, (word, weight) in enumerate(words)
        )
        print(f"  {shown}\n    -> predicted {predicted}, true {data.COLOURS[label]}")


if __name__ == "__main__":
    main()
