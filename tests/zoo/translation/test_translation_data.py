"""Tests for the dates generator and the Anki loader."""

import datetime
import re

import numpy as np
import pytest

from tests.conftest import require_dataset
from zoo.translation import data, dates


def test_dates_are_deterministic_and_iso():
    first = data.load_dates(seed=3, train_size=300, validation_size=50, test_size=50)
    again = data.load_dates(seed=3, train_size=300, validation_size=50, test_size=50)
    assert first == again
    for source, target in first.train + first.validation + first.test:
        assert datetime.date.fromisoformat(target).isoformat() == target


def test_splits_share_no_source():
    splits = data.load_dates(seed=0, train_size=2000, validation_size=300, test_size=300)
    train = {source for source, _ in splits.train}
    assert len(train) == 2000
    assert not train & {source for source, _ in splits.test}
    assert not train & {source for source, _ in splits.validation}


def test_at_least_twenty_formats_with_the_documented_conventions():
    assert len(dates.FORMATS) >= 20
    day = datetime.date(1979, 5, 3)
    written = {name: dates.write_date(day, name, weekday="Thursday") for name in dates.FORMATS}
    assert written["day_month_year"] == "3 May 1979"
    assert written["us_slash_short"] == "05/03/79"  # month first with slashes
    assert written["eu_dots_long"] == "03.05.1979"  # day first with dots
    assert written["year_month_day"] == "1979 May 3"
    assert written["weekday_month_ordinal"] == "Thursday, May 3rd, 1979"
    assert len(set(written.values())) >= 20
    assert [dates.ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd"]


def test_two_digit_years_only_in_their_century_window():
    for source, target in dates.generate_dates(3000, seed=1):
        if re.fullmatch(r"\d\d/\d\d/\d\d", source):  # mm/dd/yy
            year = int(target[:4])
            assert 1950 <= year <= 2049
            assert source == f"{target[5:7]}/{target[8:10]}/{target[2:4]}"


def test_load_anki_reads_pairs_and_ignores_attribution(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("Go.\tVe.\tCC-BY 2.0 (France) Attribution\nHi.\tHola.\n", encoding="utf-8")
    assert data.load_anki(str(path)) == [("Go.", "Ve."), ("Hi.", "Hola.")]


@pytest.mark.parametrize("bad_line", ["no tab here", "Hi.\t", "\tHola."])
def test_load_anki_rejects_malformed_lines_with_their_number(tmp_path, bad_line):
    path = tmp_path / "pairs.txt"
    path.write_text(f"Go.\tVe.\nHi.\tHola.\n{bad_line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3"):
        data.load_anki(str(path))


def test_load_anki_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        data.load_anki(str(tmp_path / "nope.txt"))


def test_split_pairs_is_the_anchors_split():
    require_dataset("spa-eng")
    pairs = data.load_anki()
    splits = data.split_pairs(pairs)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (114_964, 2_000, 2_000)
    shuffled = list(pairs)
    np.random.default_rng(0).shuffle(shuffled)  # the ANCHORS recipe, written independently
    assert splits.test == shuffled[-2000:]
    assert splits.validation == shuffled[-4000:-2000]
