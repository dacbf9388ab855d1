#!/usr/bin/env python3
"""Write the README's settings table from the one settings table (mediahub/settings.py).

    python scripts/readme_settings.py            # rewrite the table in README.md
    python scripts/readme_settings.py --check    # exit 1 if README.md's table is out of date

The table sits between two HTML comments (invisible on GitHub); everything else in the
README is left as it is. tests/test_settings.py fails while the two differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mediahub.settings import markdown_table

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- settings table: written by scripts/readme_settings.py from mediahub/settings.py -->\n"
END = "<!-- end of settings table -->\n"


def with_table(readme: str) -> str:
    """`readme` with the text between the markers replaced by the generated table."""
    head, begin, rest = readme.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not (begin and end):
        raise SystemExit(f"readme_settings: the README needs the lines {BEGIN.strip()} and {END.strip()}")
    return head + BEGIN + "\n" + markdown_table() + "\n" + END + tail  # blank lines: a table is its own block


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether the README is up to date")
    parser.add_argument("--readme", type=Path, default=README, help="the README to write (default: the project's)")
    args = parser.parse_args(argv)
    current = args.readme.read_text(encoding="utf-8")
    wanted = with_table(current)
    if current == wanted:
        return 0
    if args.check:
        print(f"{args.readme} has an outdated settings table; run python scripts/readme_settings.py", file=sys.stderr)
        return 1
    args.readme.write_text(wanted, encoding="utf-8")
    print(f"wrote the settings table into {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
