"""An embedded corpus of human-written dates and their ISO 8601 form.

`generate_dates(count, seed)` draws random calendar dates and writes each in
one of `len(FORMATS)` human styles ("3 May 1979", "05/03/79", "Thursday, March
3rd, 1979", ...). The target is always ISO 8601, "1979-05-03".

Conventions, so that every source string has exactly one right answer:

- slashes are American, month first: "05/03/79" is 3 May 1979;
- dots and dashes between numbers are European, day first: "03.05.1979";
- two-digit years mean 1950-2049 ("79" is 1979, "12" is 2012), and formats
  with two-digit years are only used for dates in that range;
- the weekday, when written, is drawn at random: people get it wrong, and a
  model should read the day, month and year ("Thursday, March 3rd, 1979"
  is 1979-03-03 although that day was a Saturday).

>>> from zoo.translation.dates import generate_dates
>>> pairs = generate_dates(3, seed=0)
>>> [len(target) for source, target in pairs]
[10, 10, 10]
>>> from zoo.translation.dates import FORMATS, write_date
>>> import datetime
>>> write_date(datetime.date(1979, 3, 3), "weekday_month_ordinal")
'Saturday, March 3rd, 1979'
"""

import datetime

import numpy as np

MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2099, 12, 31)
TWO_DIGIT_YEARS = (1950, 2049)  # "79" -> 1979, "12" -> 2012


def ordinal(day):
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    return f"{day}" + {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _fields(date, weekday):
    """Every piece a format may use, as strings."""
    month = MONTHS[date.month - 1]
    return {
        "d": str(date.day), "dd": f"{date.day:02d}", "dth": ordinal(date.day),
        "m": str(date.month), "mm": f"{date.month:02d}",
        "yyyy": str(date.year), "yy": f"{date.year % 100:02d}",
        "month": month, "mon": month[:3], "weekday": weekday, "wkd": weekday[:3],
    }


# name -> template; {yy} marks a two-digit-year format.
FORMATS = {
    "day_month_year": "{d} {month} {yyyy}",            # 3 May 1979
    "zero_day_month_year": "{dd} {month} {yyyy}",      # 03 May 1979
    "day_mon_year": "{d} {mon} {yyyy}",                # 3 May 1979 / 3 Mar 1979
    "ordinal_month_year": "{dth} {month} {yyyy}",      # 3rd May 1979
    "the_ordinal_of_month": "the {dth} of {month}, {yyyy}",  # the 3rd of May, 1979
    "month_day_year": "{month} {d}, {yyyy}",           # May 3, 1979
    "month_ordinal_year": "{month} {dth}, {yyyy}",     # May 3rd, 1979
    "mon_day_year": "{mon} {d}, {yyyy}",               # Mar 3, 1979
    "month_zero_day_year": "{month} {dd} {yyyy}",      # May 03 1979
    "weekday_month_ordinal": "{weekday}, {month} {dth}, {yyyy}",  # Thursday, March 3rd, 1979
    "weekday_day_month": "{weekday} {d} {month} {yyyy}",  # Thursday 3 May 1979
    "wkd_day_mon": "{wkd}, {d} {mon} {yyyy}",          # Thu, 3 May 1979
    "year_month_day": "{yyyy} {month} {d}",            # 1979 May 3
    "iso": "{yyyy}-{mm}-{dd}",                         # 1979-05-03
    "year_slash": "{yyyy}/{mm}/{dd}",                  # 1979/05/03
    "year_dots": "{yyyy}.{mm}.{dd}",                   # 1979.05.03
    "compact": "{yyyy}{mm}{dd}",                       # 19790503
    "us_slash_short": "{mm}/{dd}/{yy}",                # 05/03/79
    "us_slash_long": "{m}/{d}/{yyyy}",                 # 5/3/1979
    "eu_dots_long": "{dd}.{mm}.{yyyy}",                # 03.05.1979
    "eu_dots_short": "{d}.{m}.{yy}",                   # 3.5.79
    "eu_dashes": "{dd}-{mm}-{yyyy}",                   # 03-05-1979
    "day_mon_yy": "{d}-{mon}-{yy}",                    # 3-May-79
    "upper_day_month_year": "{d} {MONTH} {yyyy}",      # 3 MAY 1979
    "lower_month_day_year": "{lmonth} {d}, {yyyy}",    # may 3, 1979
}


def write_date(date, format_name, weekday=None):
    """`date` written in the style `format_name` (a key of `FORMATS`).

    `weekday` (e.g. "Monday") replaces the true weekday when given.
    """
    fields = _fields(date, weekday or WEEKDAYS[date.weekday()])
    fields["MONTH"] = fields["month"].upper()
    fields["lmonth"] = fields["month"].lower()
    return FORMATS[format_name].format(**fields)


def _allowed(format_name, date):
    if "{yy}" not in FORMATS[format_name]:
        return True
    return TWO_DIGIT_YEARS[0] <= date.year <= TWO_DIGIT_YEARS[1]


def generate_dates(count, seed=0):
    """`count` (human-written date, ISO date) pairs, the same for the same seed."""
    rng = np.random.default_rng(seed)
    names = sorted(FORMATS)
    span = (LAST_DATE - FIRST_DATE).days + 1
    pairs = []
    while len(pairs) < count:
        date = FIRST_DATE + datetime.timedelta(days=int(rng.integers(span)))
        format_name = names[int(rng.integers(len(names)))]
        weekday = WEEKDAYS[int(rng.integers(7))]
        if _allowed(format_name, date):
            pairs.append((write_date(date, format_name, weekday), date.isoformat()))
    return pairs
