"""Tweet data: TweetEval loaders, the SemEval sentiment training set, and
tweet-aware text normalisation.

TweetEval (Barbieri et al., 2020) stores each split as two aligned files,
`{split}_text.txt` (one tweet per line) and `{split}_labels.txt` (one integer
per line), plus `mapping.txt` (`id<TAB>name`). Its sentiment *train* texts are
not used (the offline mirror lacks them); `load_semeval_train` reads their
source pool instead (SemEval-2017 task 4A, TweetEval val removed, no test
overlap).

By default the files come from their public sources (downloaded once and
checked) or from the offline mirror `KATTN_DATA`: see `zoo.data_paths`.

Example:

>>> from zoo.tweets import data
>>> texts, labels, names = data.load_tweeteval("sentiment", "val")
>>> len(texts) == len(labels), names
(True, ['negative', 'neutral', 'positive'])
>>> data.normalize_tweet("@Bob LOVED it 😍 soooo much!! http://t.co/x #Win")
'@user loved it smiling face with heart-shaped eyes sooo much!! <url> #win'
"""

import html
import os
import re
import unicodedata

import numpy as np

from zoo import data_paths
from zoo.tweets import semeval

TASKS = ("emotion", "hate", "irony", "offensive", "sentiment")
SPLITS = ("train", "val", "test")

# The two placeholders of tweet normalisation, kept whole by the tokenizer.
USER_TOKEN = "@user"
URL_TOKEN = "<url>"

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_ELONGATED = re.compile(r"(\w)\1{3,}")  # "soooooo" -> "sooo"
_SPACES = re.compile(r"\s+")
_TYPOGRAPHIC_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})

# Text emoticons become the Unicode names of the emoji that replaced them, so
# that ":)" in a 2013 training tweet and 🙂 in a 2017 test tweet share words.
# A match must not run on into a word or another emoticon ("boxD", ":Done" stay).
_EMOTICONS = [
    (r":'-?\(+", "crying face"),
    (r"[:=]-?\)+|[:=]-?\]+|\(+-?:", "smiling face"),
    (r";-?\)+", "winking face"),
    (r"[:=]-?d+|(?<!\w)x-?d+", "grinning face"),
    (r"[:=]-?\(+|[:=]-?\[+", "frowning face"),
    (r"[:=]-?p+", "face with tongue"),
    (r":-?/", "confused face"),
    (r"<3+", "heart"),
]
_EMOTICON = re.compile(
    r"(?<![:;=<(])(" + "|".join(f"(?:{pattern})" for pattern, _ in _EMOTICONS) + r")(?![\w)(\]\[/])",
    re.IGNORECASE,
)
_EMOTICON_PARTS = [(re.compile(f"^(?:{pattern})$", re.IGNORECASE), name) for pattern, name in _EMOTICONS]


def _emoji_to_words(character):
    """An emoji becomes its Unicode name in words: 😂 -> ' face with tears of joy '.

    The SemEval training tweets contain no emoji at all (they were lost when
    the 2013-2016 sets were collected), so an emoji token would always be
    unknown at test time. Its name is made of words the model has seen.
    """
    if unicodedata.category(character) != "So" or ord(character) < 0x2000:
        return character
    name = unicodedata.name(character, "")
    if not name or name.startswith("REGIONAL INDICATOR"):
        return " "
    return " " + name.lower() + " "


def _emoticon_to_words(match):
    """":-))" -> " smiling face ": the name of the emoji that means the same."""
    for pattern, name in _EMOTICON_PARTS:
        if pattern.match(match.group(1)):
            return f" {name} "
    return match.group(1)


def normalize_tweet(text):
    """Tweet-aware normalisation applied before WordPiece tokenisation.

    - HTML entities are decoded (`&amp;` -> `&`), typographic quotes made
      ASCII (`’` -> `'`) and the text lower-cased;
    - user mentions become `@user` (as TweetEval already does), URLs `<url>`;
    - hashtags keep their `#` (the tokenizer splits `#win` into `#`, `win`);
    - emoji are kept as words: their Unicode name (see `_emoji_to_words`);
      skin tones, variation selectors and joiners are dropped;
    - text emoticons become the name of the matching emoji (`:)` -> `smiling
      face`, `:(` -> `frowning face`, `<3` -> `heart`), since the training
      tweets have emoticons and the test tweets emoji;
    - letters repeated more than 3 times are cut to 3 ("soooooo" -> "sooo").

    >>> from zoo.tweets import normalize_tweet
    >>> normalize_tweet("RT @CNN: Best. Day. EVER!!! https://t.co/abc")
    'rt @user: best. day. ever!!! <url>'
    """
    text = html.unescape(text)
    text = text.translate(_TYPOGRAPHIC_QUOTES)  # i’m -> i'm
    text = _URL.sub(f" {URL_TOKEN} ", text)  # before emoticons: "http://" holds ":/"
    text = _EMOTICON.sub(_emoticon_to_words, text)
    text = _MENTION.sub(USER_TOKEN, text)
    text = text.lower()
    characters = []
    for character in text:
        if character in ("\u200d", "\ufe0f", "\ufe0e") or 0x1F3FB <= ord(character) <= 0x1F3FF:
            continue  # joiners, variation selectors, skin tones
        characters.append(_emoji_to_words(character))
    text = "".join(characters)
    text = _ELONGATED.sub(r"\1\1\1", text)
    return _SPACES.sub(" ", text).strip()


def _read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def load_label_names(task, path=None):
    """The class names of a TweetEval task, in label-id order, from `mapping.txt`."""
    names = {}
    for line in _read_lines(_tweeteval_file(path, f"{task}/mapping.txt")):
        if line.strip():
            index, name = line.split("\t")
            names[int(index)] = name.strip()
    return [names[i] for i in range(len(names))]


def _tweeteval_file(path, relative):
    """`relative` (e.g. "sentiment/val_text.txt") in the TweetEval folder `path`,
    or by default fetched (public source or `KATTN_DATA` mirror)."""
    if path is None:
        return data_paths.fetch("tweeteval", relative)
    return os.path.join(data_paths.resolve(path), relative)


def load_tweeteval(task, split, path=None):
    """Read one TweetEval split.

    Args:
        task: one of "emotion", "hate", "irony", "offensive", "sentiment".
        split: "train", "val" or "test".
        path: a TweetEval `datasets` folder; by default the public files
            (or the `KATTN_DATA` mirror), see `zoo.data_paths`.

    Returns:
        `(texts, labels, label_names)`: a list of raw tweet strings, an int32
        array of label ids, and the class names in id order.

    Raises:
        ValueError: unknown task or split, a label outside `mapping.txt`, or
            text and label files of different lengths.
        FileNotFoundError: a missing file (sentiment train texts are not
            provided: use `load_semeval_train`).

    >>> from zoo.tweets import load_tweeteval
    >>> texts, labels, names = load_tweeteval("emotion", "test")
    >>> len(texts), names[labels[0]]
    (1421, 'sadness')
    """
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}; received {task!r}.")
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}; received {split!r}.")
    hint = ""
    if task == "sentiment" and split == "train":
        hint = " TweetEval's sentiment train texts are not provided; use load_semeval_train()."
        if path is None:
            raise FileNotFoundError(f"no default file for TweetEval sentiment/train_text.txt.{hint}")
    text_path = _tweeteval_file(path, f"{task}/{split}_text.txt")
    labels_path = _tweeteval_file(path, f"{task}/{split}_labels.txt")
    if not os.path.exists(text_path):
        raise FileNotFoundError(f"data file not found: {text_path}.{hint}")
    texts = _read_lines(text_path)
    label_lines = [line for line in _read_lines(labels_path)]
    if len(texts) != len(label_lines):
        raise ValueError(
            f"TweetEval {task}/{split}: `{os.path.basename(text_path)}` and "
            f"`{os.path.basename(labels_path)}` must have the same number of lines; "
            f"received {len(texts)} texts and {len(label_lines)} labels."
        )
    names = load_label_names(task, path)
    labels = np.array([int(line) for line in label_lines], dtype="int32")
    _check_labels(labels, names, labels_path)
    return [text.strip() for text in texts], labels, names


def _check_labels(labels, names, where):
    if len(labels) and (labels.min() < 0 or labels.max() >= len(names)):
        raise ValueError(
            f"labels in {where} must be in [0, {len(names) - 1}] (mapping.txt); "
            f"received values from {labels.min()} to {labels.max()}."
        )


def load_semeval_train(path=None, tweeteval_path=None):
    """The sentiment training set: SemEval-2017 4A `train.tsv` (`label<TAB>text`).

    47,466 tweets from the pool TweetEval's sentiment train split was drawn
    from, with TweetEval's val tweets removed and no test overlap; labels use
    TweetEval's `mapping.txt` (0 negative, 1 neutral, 2 positive).

    `path` is the table, or a folder of the 11 raw SemEval files from which
    `zoo.tweets.semeval` rebuilds it (needs TweetEval's sentiment val texts,
    from `tweeteval_path`). By default: the public raw files, rebuilt and
    checked against the table's sha256, or the `KATTN_DATA` mirror's table.

    Returns:
        `(texts, labels, label_names)` as `load_tweeteval`.

    >>> from zoo.tweets import load_semeval_train
    >>> texts, labels, names = load_semeval_train()
    >>> len(texts), names
    (47466, ['negative', 'neutral', 'positive'])
    """
    path = data_paths.resolve(path, "semeval2017-4a")
    if os.path.isdir(path):
        val_texts = _read_lines(_tweeteval_file(tweeteval_path, "sentiment/val_text.txt"))
        lines = [f"{label}\t{text}" for label, text in semeval.build_train_table(path, val_texts)]
    else:
        lines = _read_lines(path)
    texts, labels = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.split("\t", 1)
        if len(fields) != 2 or not fields[0].strip().isdigit():
            raise ValueError(
                f"{path} line {number}: expected `label<TAB>text`; received {line[:60]!r}."
            )
        labels.append(int(fields[0]))
        texts.append(fields[1].strip())
    names = load_label_names("sentiment", tweeteval_path)
    labels = np.array(labels, dtype="int32")
    _check_labels(labels, names, path)
    return texts, labels, names
