"""The sentiment training table `train.tsv`, rebuilt from the raw SemEval files.

TweetEval's sentiment train split was drawn from the SemEval-2017 task 4A
training pool: 11 files `twitter-<year><part>-A.tsv` of `id<TAB>label<TAB>text`
(2013-2016). The project's table (`shared/data/semeval2017-4a/train.tsv`,
`label<TAB>text`, 47,466 tweets) is made from them in four steps, the ones of
its SOURCE.md, and `build_train_table` redoes them byte for byte:

1. keep the first copy of each tweet id; drop ids whose copies disagree on
   the label;
2. drop the tweets whose normalised text is a TweetEval val tweet (val stays
   held out; the pool has no test tweets, so none to drop for test);
3. clean the text: `\\uXXXX` escapes decoded, `\\"` -> `"`, HTML entities
   decoded, @mentions -> `@user`, line breaks and tabs -> spaces, stripped;
4. keep the first copy of each cleaned text; drop texts whose copies disagree.

>>> from zoo.tweets.semeval import clean
>>> clean(r'I\\u2019m at @Home \\"now\\" &amp; fine')
'I’m at @user "now" & fine'
"""

import hashlib
import html
import os
import re

from zoo import data_paths

RAW_FILES = tuple(
    f"twitter-{part}-A.tsv"
    for part in (
        "2013train", "2013dev", "2013test", "2014test", "2014sarcasm", "2015train",
        "2015test", "2016train", "2016dev", "2016devtest", "2016test",
    )
)
LABELS = {"negative": 0, "neutral": 1, "positive": 2}  # TweetEval's mapping.txt
TRAIN_TABLE_SHA256 = data_paths.DATASETS["semeval2017-4a"].mirror_files["train.tsv"]

_ESCAPES = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _decode_escapes(text):
    # A run of \uXXXX may hold surrogate pairs (emoji): decode it as UTF-16.
    def decode(match):
        units = bytes.fromhex(match.group(0).replace("\\u", ""))
        return units.decode("utf-16-be", "surrogatepass")

    return _ESCAPES.sub(decode, text)


def clean(text):
    """Step 3: the text as it appears in the table."""
    text = html.unescape(_decode_escapes(text).replace('\\"', '"'))
    return _BREAKS.sub(" ", _MENTION.sub("@user", text)).strip()


def _match_key(text):
    """The normalised text used to find TweetEval val tweets in the pool."""
    text = html.unescape(_decode_escapes(text))
    text = _MENTION.sub("", _URL.sub("", text))
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _first_of_each(rows, key):
    """The first row of each key, leaving out every key whose rows disagree on the label."""
    labels = {}
    for row in rows:
        labels.setdefault(key(row), set()).add(row[1])
    kept, seen = [], set()
    for row in rows:
        if len(labels[key(row)]) == 1 and key(row) not in seen:
            seen.add(key(row))
            kept.append(row)
    return kept


def build_train_table(raw_folder, held_out_texts):
    """`[(label, text)]` of `train.tsv` from the raw files in `raw_folder`.

    `held_out_texts` are TweetEval's sentiment val tweets. The result is
    checked against the published table's sha256 (a `ValueError` if it
    differs: other raw files, or other val texts).
    """
    rows = []  # (tweet id, label name, raw text)
    for name in RAW_FILES:
        with open(os.path.join(raw_folder, name), encoding="utf-8") as f:
            for line in f.read().split("\n"):
                if line.strip():
                    tweet_id, label, text = line.split("\t")[:3]
                    rows.append((tweet_id, label, text))
    rows = _first_of_each(rows, key=lambda row: row[0])  # step 1
    held_out = {_match_key(text.strip()) for text in held_out_texts}
    rows = [row for row in rows if _match_key(row[2]) not in held_out]  # step 2
    rows = [(tweet_id, LABELS[label], clean(text)) for tweet_id, label, text in rows]  # step 3
    rows = _first_of_each(rows, key=lambda row: row[2])  # step 4
    table = [(label, text) for _, label, text in rows]
    digest = hashlib.sha256("".join(f"{label}\t{text}\n" for label, text in table).encode("utf-8"))
    if digest.hexdigest() != TRAIN_TABLE_SHA256:
        raise ValueError(
            f"the table rebuilt from {raw_folder} has sha256 {digest.hexdigest()}, expected "
            f"{TRAIN_TABLE_SHA256} (semeval2017-4a/train.tsv): other raw files or val texts?"
        )
    return table
