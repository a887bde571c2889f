"""Inputs a model cannot answer get a clear error, not a guess (`zoo.text_inputs`).

Every bad input and its answer, with the test below that checks it
(`classify`, `explain`, `predict` on strings and `translate` answer alike; the
CLI prints an error as one line `zoo: error: ...` with exit code 2 and a
warning as one line `zoo: warning: ...`):

| input | answer |
|---|---|
| `""` (CLI: `python -m zoo classify tweets-sentiment ""`, `translate dates-transformer ""`) | ValueError ``texts[0]` is empty ('')`` (CLI: exit 2, one line) |
| `"   "` | ValueError ``texts[0]` is only whitespace`` |
| `[None]`, `[3]` (e.g. `translator.translate([None])`) | ValueError ``texts[0]` must be a string; received NoneType None`` |
| `[]` (`classifier.classify([])`) | ValueError ``texts` must hold at least one string; received an empty list`` |
| `"a string"`, not a list (`classifier.classify("a string")`, `translate("a string")`) | ValueError ``texts` must be a list of strings; received one string ... Wrap it in a list`` everywhere |
| a 10,000-character non-date to the dates translator | an answer, with InputWarning "(10,000 characters): longer than the model reads; it reads only the first 32 characters" and "characters the model never saw, read as unknown" (CLI: two `zoo: warning:` lines, exit 0) |
| a tweet longer than 64 tokens | an answer, with InputWarning "longer than the model reads; it reads only the first 64 tokens" |
| full-width digits `"１９７９年３月３日"` to the dates translator | read in NFKC form (`"1979年3月3日"`), with InputWarning naming '年', '月', '日' as characters the model never saw |
| a text with no word the classifier knows | an answer, with InputWarning "no word the model knows; the answer is a guess" |
| 0..255 images to `vit-tiny-digits` (which takes 0..16) | ValueError "pixel values in 0..16 ... received values in 0..255" (tests/zoo/vit/test_recipes.py) |
| `(N, 8, 8)` images (no channel axis) to `vit-tiny-digits` | accepted as `(N, 8, 8, 1)` (tests/zoo/vit/test_recipes.py) |
"""

import os
import subprocess
import sys
import warnings

import pytest

import zoo
from zoo.text_inputs import InputWarning, check_texts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def tweets():
    return zoo.load("tweets-sentiment")


@pytest.fixture(scope="module")
def dates():
    return zoo.load("dates-transformer")


@pytest.fixture(scope="module")
def colours():
    return zoo.load("classifier-first-colour")


def entry_points(tweets, dates, colours):
    return {
        "tweets.classify": tweets.classify,
        "tweets.explain": tweets.explain,
        "tweets.predict": lambda texts: tweets.predict(texts, verbose=0),
        "colours.classify": colours.classify,
        "colours.explain": colours.explain,
        "dates.translate": dates.translate,
    }


BAD = [
    ("a string", r"`texts` must be a list of strings; received one string 'a string'\. Wrap it in a list"),
    ([], r"`texts` must hold at least one string; received an empty list\."),
    ([None], r"`texts\[0\]` must be a string; received NoneType None\."),
    (["fine", 3], r"`texts\[1\]` must be a string; received int 3\."),
    ([""], r"`texts\[0\]` is empty \(''\): there is nothing to read\."),
    (["ok", " \t "], r"`texts\[1\]` is only whitespace"),
]


@pytest.mark.parametrize("texts, message", BAD)
def test_bad_texts_are_the_same_clear_error_everywhere(texts, message, tweets, dates, colours):
    for name, method in entry_points(tweets, dates, colours).items():
        with pytest.raises(ValueError, match=message):
            method(texts)


def test_check_texts_accepts_lists_tuples_and_string_arrays():
    import numpy as np

    assert check_texts(("a", "b")) == ["a", "b"]
    assert check_texts(np.array(["a", "b"])) == ["a", "b"]
    with pytest.raises(ValueError, match=r"received an array of shape \(1, 2\)"):
        check_texts(np.array([["a", "b"]]))


def test_too_long_date_is_cut_with_a_warning(dates):
    with pytest.warns(InputWarning) as caught:
        (answer,) = dates.translate(["x" * 10_000])
    messages = [str(w.message) for w in caught]
    assert any("texts[0] (10,000 characters): longer than the model reads; it reads only the first "
               f"{dates.source_length} characters" in m for m in messages), messages
    assert any("characters the model never saw, read as unknown" in m for m in messages), messages
    assert isinstance(answer, str)


def test_full_width_digits_are_read_in_nfkc_form_and_unknown_characters_named(dates):
    with pytest.warns(InputWarning, match=r"texts\[0\] \('年', '月', '日'\): characters the model never saw"):
        full_width = dates.translate(["１９７９年３月３日"])
    with pytest.warns(InputWarning):
        ascii_digits = dates.translate(["1979年3月3日"])
    assert full_width == ascii_digits
    # Full-width Latin letters and digits of a format the model knows: read alike, no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        assert dates.translate(["Ｍａｒｃｈ ３, １９７９"]) == dates.translate(["March 3, 1979"])


def test_a_good_input_gives_no_warning(tweets, dates, colours):
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        assert dates.translate(["Thursday, March 3rd, 1979"]) == ["1979-03-03"]
        assert tweets.classify(["great"]) == ["positive"]
        assert colours.classify(["the red cat"]) == ["red"]


def test_long_tweet_is_cut_with_a_warning(tweets):
    with pytest.warns(InputWarning, match=r"texts\[0\] \(100 tokens\): longer than the model reads; "
                                          r"it reads only the first 64 tokens"):
        tweets.classify(["good " * 100])


def test_text_with_no_known_word_is_answered_with_a_warning(tweets, colours):
    with pytest.warns(InputWarning, match=r"no word the model knows; the answer is a guess"):
        colours.classify(["zzz qqq"])
    with pytest.warns(InputWarning, match=r"no word the model knows"):
        tweets.classify(["日本語です"])


def run_zoo(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # what a user gets
    return subprocess.run([sys.executable, "-m", "zoo", *args], env=env, capture_output=True,
                          text=True, timeout=600)


def test_cli_empty_texts_are_one_line_errors_with_exit_code_2():
    for args in (["classify", "tweets-sentiment", ""], ["translate", "dates-transformer", "  "]):
        done = run_zoo(*args)
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("zoo: error: `texts[0]` is ")


def test_cli_too_long_input_prints_its_answer_and_one_line_warnings():
    done = run_zoo("translate", "dates-transformer", "x" * 10_000)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [line for line in lines if line.startswith("zoo: warning: ")], lines
    assert "it reads only the first 32 characters" in lines[0]
    assert done.stdout.count("\n") == 1
