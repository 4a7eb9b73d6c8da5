"""Read the Dockerfile and .dockerignore as Docker does, enough to test them."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.processes import PROJECT_DIR


@dataclass(frozen=True)
class Dockerfile:
    instructions: list[tuple[str, str]]  # (INSTRUCTION, its arguments)

    @classmethod
    def read(cls, path: Path = PROJECT_DIR / "Dockerfile") -> Dockerfile:
        instructions, pending = [], ""
        for line in path.read_text().splitlines():
            if line.lstrip().startswith("#") or not line.strip():
                continue  # comments may sit between continued lines too
            pending += line.rstrip()
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
        return cls(instructions)

    def all(self, keyword: str) -> list[str]:
        return [arguments for name, arguments in self.instructions if name == keyword]

    def index(self, keyword: str, containing: str = "") -> int:
        """Return the position of the first such instruction."""
        return next(
            number
            for number, (name, arguments) in enumerate(self.instructions)
            if name == keyword and containing in arguments
        )

    @property
    def env(self) -> dict[str, str]:
        return dict(
            pair.split("=", 1)
            for arguments in self.all("ENV")
            for pair in shlex.split(arguments)
        )

    @property
    def args(self) -> dict[str, str]:
        return dict(arguments.split("=", 1) for arguments in self.all("ARG"))

    @property
    def user(self) -> str:
        """Return the last USER, with build arguments at their defaults."""
        user = self.all("USER")[-1]
        return re.sub(r"\$\{(\w+)\}", lambda m: self.args[m[1]], user)

    @property
    def workdir(self) -> str:
        return self.all("WORKDIR")[-1]

    @property
    def volumes(self) -> list[str]:
        return [path for v in self.all("VOLUME") for path in _json_or_words(v)]

    @property
    def cmd(self) -> list[str]:
        return json.loads(self.all("CMD")[-1])

    @property
    def healthcheck(self) -> list[str]:
        options, _, command = self.all("HEALTHCHECK")[-1].partition("CMD ")
        return json.loads(command)

    def run_step(self, containing: str) -> str:
        return next(step for step in self.all("RUN") if containing in step)


def _json_or_words(arguments: str) -> list[str]:
    return json.loads(arguments) if arguments.startswith("[") else arguments.split()


def ignored_by_docker(relative: str, patterns: list[str]) -> bool:
    """Apply .dockerignore patterns to a path: the last pattern that matches wins."""
    ignored = False
    for pattern in patterns:
        exception = pattern.startswith("!")
        if _matches(relative, _regex(pattern.removeprefix("!").strip("/"))):
            ignored = not exception
    return ignored


def _matches(relative: str, pattern: re.Pattern) -> bool:
    # A pattern matches a path or any of its parents, as Docker's does.
    parts = relative.split("/")
    return any(
        pattern.fullmatch("/".join(parts[:depth])) for depth in range(1, len(parts) + 1)
    )


def _regex(pattern: str) -> re.Pattern:
    # Go's filepath.Match, as Docker uses it: * and ? stay within one directory;
    # Docker adds **, any number of directories.
    translated = re.escape(pattern)
    for glob, regex in (
        (r"\*\*/", "(?:.*/)?"),
        (r"\*\*", ".*"),
        (r"\*", "[^/]*"),
        (r"\?", "[^/]"),
        (r"\[", "["),
        (r"\]", "]"),
    ):
        translated = translated.replace(glob, regex)
    return re.compile(translated)


def dockerignore() -> list[str]:
    lines = (PROJECT_DIR / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and line[0] != "#"]


def build_context(destination: Path) -> Path:
    """Copy what `docker build` would send: the project less .dockerignore."""
    patterns = dockerignore()

    def ignore(directory: str, names: list[str]) -> set[str]:
        relative = os.path.relpath(directory, PROJECT_DIR)
        prefix = "" if relative == "." else relative + "/"
        return {name for name in names if ignored_by_docker(prefix + name, patterns)}

    shutil.copytree(PROJECT_DIR, destination, ignore=ignore)
    return destination
