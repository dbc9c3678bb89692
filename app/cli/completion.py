"""Tab completion for the REPL, derived from the command table as it configures its parsers:
commands, subcommands (`cache l<Tab>` -> `list`), options, class names after
`class update|remove|list`, and paths (folders with their trailing `/`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.document import Document

from app.cli.parsing import ReplArgumentParser

# (command, subcommand) pairs whose next word is an existing class name
CLASS_NAME_ARGUMENT = {("class", "update"), ("class", "remove"), ("class", "list")}


@dataclass
class Node:
    """What may follow a command (or subcommand): its subcommands and its options."""

    children: dict[str, Node] = field(default_factory=dict)
    options: list[str] = field(default_factory=list)


class RecordingParser(ReplArgumentParser):
    """A parser that remembers, through argparse's public methods, what completion needs."""

    def __init__(self, *args, **kwargs) -> None:
        self.node = Node()  # before argparse adds -h
        super().__init__(*args, **kwargs)

    def add_argument(self, *names, **kwargs):
        self._record(names, kwargs)
        return super().add_argument(*names, **kwargs)

    def add_mutually_exclusive_group(self, **kwargs):
        return self._recorded_group(super().add_mutually_exclusive_group(**kwargs))

    def add_argument_group(self, *args, **kwargs):
        return self._recorded_group(super().add_argument_group(*args, **kwargs))

    def add_subparsers(self, **kwargs):
        action = super().add_subparsers(**kwargs)
        add_parser = action.add_parser

        def recorded(name: str, **options):
            child = add_parser(name, **options)
            self.node.children[name] = child.node
            return child

        action.add_parser = recorded
        return action

    def _recorded_group(self, group):
        add_argument = group.add_argument

        def recorded(*names, **kwargs):
            self._record(names, kwargs)
            return add_argument(*names, **kwargs)

        group.add_argument = recorded
        return group

    def _record(self, names: Sequence[str], kwargs: dict) -> None:
        self.node.options += [n for n in names if n.startswith("-")]
        if names and not names[0].startswith("-") and not self.node.children:
            # a first positional with choices (`cache list|clear`) reads like subcommands
            self.node.children = {str(c): Node() for c in kwargs.get("choices") or ()}


def command_tree(commands: Iterable, extra_words: Iterable[str] = ()) -> Node:
    """The completion tree of `commands` (objects with `name` and `configure(parser)`)."""
    root = Node()
    for command in commands:
        parser = RecordingParser(prog=command.name, add_help=True)
        command.configure(parser)
        root.children[command.name] = parser.node
    for word in extra_words:
        root.children.setdefault(word, Node())
    return root


class ReplCompleter(Completer):
    """Completes the word before the cursor from the tree, class names or the file system."""

    def __init__(self, tree: Node, class_names: Callable[[], list[str]] = list) -> None:
        self._tree = tree
        self._class_names = class_names

    def get_completions(self, document: Document, complete_event) -> Iterable[Completion]:
        text = document.text_before_cursor
        words = text.split()
        word = "" if not words or text.endswith(" ") else words[-1]
        done = words if word == "" else words[:-1]  # the words before the one being typed
        node, path = self._tree, []
        for w in done:  # descend through the command and its subcommands
            if w not in node.children:
                break
            node, path = node.children[w], [*path, w]
        candidates = self._candidates(node, tuple(path), len(done) == len(path), word)
        if candidates is None:
            yield from _paths(word)
            return
        for name in sorted(candidates):
            if name.startswith(word):
                yield Completion(name, start_position=-len(word))

    def _candidates(self, node: Node, path: tuple[str, ...], next_word: bool, word: str):
        """Words that may come here, or None for a path."""
        if not path:
            return node.children.keys() if next_word else None
        if word.startswith("-"):
            return node.options
        if next_word and node.children:
            return node.children.keys()
        if next_word and path in CLASS_NAME_ARGUMENT:
            return self._class_names()
        return None


def _paths(word: str) -> Iterable[Completion]:
    """Files and folders starting with `word`; folders end with `/` so Tab can go on."""
    expanded = os.path.expanduser(word)
    folder, prefix = os.path.split(expanded)
    try:
        entries = sorted(os.scandir(folder or "."), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix) or (entry.name[0] == "." and not prefix):
            continue
        name = entry.name + ("/" if _is_dir(entry) else "")
        yield Completion(name, start_position=-len(prefix), display=name)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
