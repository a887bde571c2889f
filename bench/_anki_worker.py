"""One contestant of the Tatoeba benchmark, trained and scored in its own process.

    python -m bench._anki_worker KIND MINUTES CORE RESULT.json [--quick]

KIND: "transformer" or "rnn" (ours, `zoo.translation.recipes.build_anki`) or
"peer" (`bench._anki_peer`, the KerasHub recipe of ../shared/ANCHORS.md).
The process is pinned to CPU core CORE with one TensorFlow thread, so two
contestants run side by side on the 2-core machine with equal compute.
Vocabulary building is not counted in the training time of either.
"""

import json
import os
import sys
import time

EXAMPLE = "¿Dónde está la estación de tren más cercana?"


def main(kind, minutes, core, result_path, quick=False):
    os.sched_setaffinity(0, {core})
    from zoo import quiet_start

    quiet_start.start()
    import keras
    import sacrebleu
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(0)

    from zoo import recipes
    from zoo.translation import data, training
    from zoo.translation import recipes as translation_recipes

    pairs = [(other, english) for english, other in data.load_anki()]
    splits = data.split_pairs(pairs)
    train_pairs = splits.train[:2000] if quick else splits.train
    test = splits.test[:64] if quick else splits.test
    started = time.perf_counter()
    if kind == "peer":
        from bench._anki_peer import BATCH_SIZE, Peer

        peer = Peer(train_pairs)
        model, train = peer.model, peer.dataset(train_pairs)
        vocabulary = peer.vocabulary_sizes
        translate = peer.translate
    else:
        tokenizers = translation_recipes.anki_tokenizers(train_pairs)
        options = recipes.Options(quick=quick, batch_size=64)
        run = translation_recipes.build_anki(kind, options, tokenizers=tokenizers)
        model, train, BATCH_SIZE = run.model, run.train, 64
        vocabulary = (tokenizers[0].vocabulary_size, tokenizers[1].vocabulary_size)
        translate = model.translate
    vocabulary_minutes = (time.perf_counter() - started) / 60

    budget = training.TimeBudget(minutes)
    model.fit(train, epochs=1 if quick else 1000, callbacks=[budget], verbose=2)
    steps = int(model.optimizer.iterations.numpy())  # updates actually applied
    steps_per_epoch = -(-len(train_pairs) // BATCH_SIZE)

    started = time.perf_counter()
    predictions = translate([source for source, _ in test])
    decode_seconds = time.perf_counter() - started
    references = [target for _, target in test]
    result = {
        "kind": kind,
        "params": int(model.count_params()),
        "vocabulary": vocabulary,
        "vocabulary_minutes": vocabulary_minutes,
        "train_minutes": budget.elapsed_minutes,
        "steps": steps,
        "epochs": steps / steps_per_epoch,
        "bleu_cased": sacrebleu.corpus_bleu(predictions, [references]).score,
        "bleu_lowercase": sacrebleu.corpus_bleu(predictions, [references], lowercase=True).score,
        "decode_seconds": decode_seconds,
        "test_sentences": len(test),
        "samples": [[s, p, r] for (s, r), p in list(zip(test, predictions))[:5]],
        "example": translate([EXAMPLE])[0],
    }
    if kind == "transformer":
        from zoo.translation import heatmaps

        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        image = os.path.join(root, "docs", "images", "spa_eng_alignment.png")
        heatmaps.save_alignment(model, EXAMPLE, image)
        result["alignment_image"] = "docs/images/spa_eng_alignment.png"
        if not quick:
            result["beam_bleu_cased"] = training.bleu(model, test, method="beam", beam_size=4)
    with open(result_path, "w") as file:
        json.dump(result, file, indent=1)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--quick"]
    main(arguments[0], float(arguments[1]), int(arguments[2]), arguments[3], "--quick" in sys.argv)
