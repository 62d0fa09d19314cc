"""The README documents every command, option, format, field and setting: a new one fails here
until it is written down."""

from __future__ import annotations

import argparse
import re

from conftest import PROJECT
from crawldash import schema
from crawldash.cli import build_parser
from crawldash.importers import FORMATS

README = (PROJECT / "README.md").read_text(encoding="utf-8")


def commands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_and_option_is_in_the_readme():
    for name, parser in commands().items():
        assert f"python -m crawldash {name}" in README, name
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in README, f"{name} {option}"


def test_every_format_is_in_the_readme():
    for name in FORMATS:
        assert f"**{name}**" in README, name


def test_every_task_field_is_in_the_readme_table():
    for column in schema.TASK_COLUMNS:
        assert re.search(rf"^\| {column.name} \| {column.kind} \|", README, re.M), column.name


def test_every_setting_the_code_reads_is_in_the_readme():
    code = "\n".join(p.read_text() for folder in ("crawldash", "ui", "pages") for p in (PROJECT / folder).rglob("*.py"))
    names = set(re.findall(r"CRAWLDASH_[A-Z_]+", code))
    assert names >= {"CRAWLDASH_DB", "CRAWLDASH_TOKEN"}
    for name in names:
        assert f"`{name}`" in README, name


def test_the_two_commands_are_what_ci_runs():
    assert "./scripts/run" in README and "./scripts/test" in README
    assert "./scripts/test" in (PROJECT / ".ci" / "run").read_text()
