"""Load the triage knowledge (rules.yaml) and compile it for a one-pass scan.

The knowledge is data so that a fire-safety or anti-fraud officer can edit it without touching
code. Mistakes in that file must not surface as a stack trace at classification time, so every
check runs at load and fails with ``KnowledgeError("rules.yaml:LINE:COL: what is wrong")``,
using the marks yaml keeps on every node.

Compiled form: each word group gets one bit; every phrase maps to the OR of its groups' bits;
all phrases go into one character trie (nested ``(bits, children)`` pairs), so the engine
scans a report once, taking the longest phrase at each place, and combines groups with integer
masks, never looping over phrases in Python. The few regular-expression patterns form one
regex that finds where one of them starts (see ``_combined_pattern``).
"""

from __future__ import annotations

import re
import re._constants as _sre  # type: ignore[import-not-found]  # parsed regexes
import re._parser as _sre_parser  # type: ignore[import-not-found]
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "CODES",
    "ROLE_GROUPS",
    "SEVERITIES",
    "SEVERITY_RANK",
    "CodeRules",
    "Knowledge",
    "KnowledgeError",
    "Rule",
    "load_knowledge",
    "normalise_table",
]

CODES = (
    "EBIKE_CHARGING",
    "BLOCKED_EXIT",
    "ILLEGAL_WIRING",
    "FIRE_EQUIPMENT_FAILURE",
    "TELECOM_FRAUD",
)
SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {level: i for i, level in enumerate(SEVERITIES)}
# Groups whose meaning the engine implements (scopes, negation, fixes); rules.yaml must define them.
ROLE_GROUPS = (
    "sentence_break",
    "clause_break",
    "topic_shift",
    "not_found",
    "absence",
    "lack",
    "advice",
    "ok_status",
    "context",
    "found",
    "fix_done",
    "fix_verb",
    "done",
    "spot",
    "order",
    "historic",
    "recurrence",
    "unfixed",
)
# Content groups the engine itself refers to (missing equipment, night from the report time,
# "…的现象，没有" and "楼道里没有" negated after the fact).
ENGINE_GROUPS = (
    "equipment",
    "failure",
    "night",
    "fraud_topic",
    "phenomenon",
    "route",
    "indoors",
    "vacant",
    "notice",
    "all_clear",
    "list_break",
    "rule_question",
    "case_ref",
    "plan",
    "live",  # round16: a case happening now, which a notice or publicity does not mute
)
_TOP_KEYS = {
    "version",
    "night_hours",
    "characters",
    "words",
    "patterns",
    "report_wide",
    "codes",
    "fraud_types",
}
_GROUP_NAME = re.compile(r"[a-z][a-z0-9_]*")


class KnowledgeError(ValueError):
    """rules.yaml is malformed; the message starts with ``file:line:column``."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A condition on word groups: all of ``all_bits`` present, none of ``none_bits``.

    ``clause_bits`` must also meet inside one clause; ``within_clause`` checks all in one clause.
    """

    all_bits: int
    none_bits: int
    within_clause: bool = False
    severity: str = ""
    clause_bits: int = 0
    need: int = 0  # all_bits | clause_bits: a quick necessary condition

    def holds(self, mask: int) -> bool:
        """Tell whether a mask of present groups satisfies the rule."""
        return mask & self.all_bits == self.all_bits and not mask & self.none_bits


@dataclass(frozen=True, slots=True)
class CodeRules:
    """How one finding code is triggered and graded."""

    code: str
    report_scope: bool
    fixable: bool
    triggers: tuple[Rule, ...]
    severity: tuple[Rule, ...]
    trigger_bits: int = 0  # every group some trigger needs: a quick test before the rules
    trigger_needs: tuple[int, ...] = ()  # the triggers' ``need``s, for a quick test (see below)


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Everything the engine needs, compiled."""

    table: dict[int, str]
    odd_chars: re.Pattern[str]  # any character the table changes
    swaps: dict[str, str]  # the table again, keyed by character
    frequent: tuple[tuple[str, str], ...]  # the swaps most texts need, done first
    trie: dict[str, Any]  # first character -> (bits, children); see ``_trie``
    pattern: re.Pattern[str] | None  # any of the patterns: finds where one starts
    phrase_bits: dict[str, int]
    patterns: tuple[tuple[re.Pattern[str], int], ...]  # each with the bits of its group
    by_first: dict[str, tuple[tuple[re.Pattern[str], int], ...]]  # the patterns a char can start
    bits: dict[str, int]
    codes: tuple[CodeRules, ...]
    fraud_types: tuple[tuple[str, int], ...]
    night_hours: frozenset[int]
    report_wide: int

    def normalise(self, text: str) -> str:
        """Apply ``table`` to a text, one character for one, so offsets stay valid.

        Only the few characters the table changes are visited: ``str.translate`` would look
        every character of a Chinese text up in the table. The full-width comma, colon and
        semicolon are four in five of them, so ``str.replace`` swaps them first, in C: the
        regex then seldom finds one, each costing a call of ``_swap``.
        """
        for char, swapped in self.frequent:
            text = text.replace(char, swapped)
        return self.odd_chars.sub(self._swap, text)

    def _swap(self, match: re.Match[str]) -> str:
        """The table's replacement for one matched character."""
        return self.swaps[match[0]]

    def pattern_tokens(self, text: str) -> dict[int, tuple[int, int]]:
        """Where the patterns match, left to right without overlaps: start -> (end, bits).

        The matches ``re.finditer`` would give for the patterns joined in one choice, found
        with ``pattern``, which tells only where a match starts (see ``_combined_pattern``).
        Every pattern matches at least one character, so each search starts further on.
        """
        found: dict[int, tuple[int, int]] = {}
        if self.pattern is None:
            return found
        search, at = self.pattern.search, 0
        while (match := search(text, at)) is not None:
            start = match.start()
            found[start] = token = self.pattern_token(text, start)
            at = token[0]  # the next match starts after this one, as with finditer
        return found

    def pattern_token(self, text: str, start: int) -> tuple[int, int]:
        """Return (end, bits) of the first pattern matching at ``start``.

        ``pattern`` has no groups to tell which one matched: capturing groups would cost it
        twice its time.
        """
        for regex, bits in self.by_first.get(text[start], self.patterns):
            if found := regex.match(text, start):
                return found.end(), bits
        msg = f"no pattern matches at {start}"
        raise AssertionError(msg)


def load_knowledge(path: Path) -> Knowledge:
    """Read, validate and compile a rules file.

    Raises:
        KnowledgeError: with the file, line and column of the first problem found.
    """
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
        msg = f"{where}: {exc.problem}"
        raise KnowledgeError(msg) from exc
    return _Compiler(path.name).compile(root)


def normalise_table(pairs: dict[str, str]) -> dict[int, str]:
    """Build the one-char-for-one-char table: full-width to half-width, ASCII lowercase, extras.

    Length-preserving on purpose: evidence offsets found in the normalised text are then valid
    in the original text.
    """
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    table[0x3000] = " "
    table.update({code: chr(code + 32) for code in range(ord("A"), ord("Z") + 1)})
    table.update({ord(src): dst for src, dst in pairs.items()})
    return {k: v.lower() for k, v in table.items()}


class _Compiler:
    """Walk the yaml node tree, checking as it goes, and build ``Knowledge``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bits: dict[str, int] = {}

    def fail(self, node: Node, problem: str) -> KnowledgeError:
        """Make an error that points at a node's line and column."""
        mark = node.start_mark
        return KnowledgeError(f"{self.name}:{mark.line + 1}:{mark.column + 1}: {problem}")

    def compile(self, root: Node | None) -> Knowledge:
        """Check the whole file, then assemble the compiled knowledge."""
        if root is None:
            msg = f"{self.name}: the file is empty"
            raise KnowledgeError(msg)
        top = self.mapping(root, "the file")
        self.check_keys(root, top, "the file", _TOP_KEYS, _TOP_KEYS - {"patterns", "report_wide"})
        table = normalise_table(self.characters(top["characters"]))
        words = self.words(top["words"], top["fraud_types"], table)
        patterns = self.patterns(top.get("patterns"))
        codes = tuple(self.code(name, node) for name, node in self.items(top["codes"], "codes"))
        return Knowledge(
            table=table,
            odd_chars=_any_of(table),
            swaps={chr(code): char for code, char in table.items()},
            frequent=_frequent_swaps(table),
            trie=_trie(words),
            pattern=_combined_pattern(patterns),
            phrase_bits=words,
            patterns=tuple((re.compile(regex), bits) for regex, bits in patterns),
            by_first=_by_first(patterns),
            bits=dict(self.bits),
            codes=codes,
            fraud_types=self.fraud_type_bits(top["fraud_types"]),
            night_hours=self.hours(top["night_hours"]),
            report_wide=self.mask(top.get("report_wide"), "report_wide"),
        )

    # -- node helpers -------------------------------------------------------------------------

    def mapping(self, node: Node, what: str) -> dict[str, Node]:
        """Return a mapping node's children by key, refusing duplicate keys yaml would hide."""
        return dict(self.items(node, what))

    def items(self, node: Node, what: str) -> Iterator[tuple[str, Node]]:
        """Yield a mapping's (key, value node) pairs in file order."""
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping (key: value)")
        seen: set[str] = set()
        for key, value in node.value:
            name = self.scalar(key, f"a key in {what}")
            if name in seen:
                raise self.fail(key, f"{name!r} appears twice in {what}")
            seen.add(name)
            yield name, value

    def scalar(self, node: Node, what: str) -> str:
        """Return a scalar's text, refusing lists, mappings and empty values."""
        if not isinstance(node, ScalarNode) or node.value == "":
            raise self.fail(node, f"{what} must be a non-empty text value")
        return str(node.value)

    def strings(self, node: Node, what: str) -> list[tuple[str, Node]]:
        """Return a list of texts with their nodes (for errors pointing at one item)."""
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list (lines starting with '- ')")
        return [(self.scalar(item, f"an item of {what}"), item) for item in node.value]

    def check_keys(
        self, node: Node, found: dict[str, Node], what: str, known: set[str], needed: set[str]
    ) -> None:
        """Refuse unknown keys (typos) and missing required ones."""
        for key, value in found.items():
            if key not in known:
                raise self.fail(value, f"unknown key {key!r} in {what}; known: {sorted(known)}")
        missing = sorted(needed - set(found))
        if missing:
            raise self.fail(node, f"{what} lacks {', '.join(missing)}")

    # -- sections -----------------------------------------------------------------------------

    def characters(self, node: Node) -> dict[str, str]:
        """Read 'characters' sub-mappings: each key's characters become the value's, in order."""
        pairs: dict[str, str] = {}
        for section, body in self.items(node, "characters"):
            for src, dst_node in self.items(body, f"characters.{section}"):
                dst = self.scalar(dst_node, f"characters.{section}.{src}")
                if len(src) != len(dst):
                    problem = f"{src!r} has {len(src)} characters but {dst!r} has {len(dst)}"
                    raise self.fail(dst_node, problem)
                pairs.update(zip(src, dst, strict=True))
        return pairs

    def words(self, node: Node, types: Node, table: dict[int, str]) -> dict[str, int]:
        """Give each word group a bit and map every (normalised) phrase to its groups' bits."""
        phrases: dict[str, int] = {}
        groups = list(self.items(node, "words"))
        groups += [(f"type:{name}", body) for name, body in self.items(types, "fraud_types")]
        for group, body in groups:
            if not group.startswith("type:") and not _GROUP_NAME.fullmatch(group):
                raise self.fail(body, f"group name {group!r}: use lowercase letters and _")
            bit = self.new_bit(group)
            if group.startswith("type:"):
                bit |= self.new_bit("fraud_topic")
            for phrase, _ in self.strings(body, f"words.{group}"):
                key = phrase.translate(table)  # written traditional or simplified
                phrases[key] = phrases.get(key, 0) | bit
        self.require(node)
        return phrases

    def require(self, node: Node) -> None:
        """Make sure the groups the engine implements are all defined."""
        missing = [g for g in (*ROLE_GROUPS, *ENGINE_GROUPS) if g not in self.bits]
        if missing:
            raise self.fail(node, f"words lacks the groups the engine needs: {missing}")

    def new_bit(self, group: str) -> int:
        """Return a group's bit, allocating the next one on first use."""
        if group not in self.bits:
            self.bits[group] = 1 << len(self.bits)
        return self.bits[group]

    def patterns(self, node: Node | None) -> list[tuple[str, int]]:
        """Compile 'patterns' (group: [regex, ...]) for things a word list cannot enumerate.

        A key may join several groups with '+' ("fraud_word+loss"): a match counts for each,
        as a phrase listed in several word groups does.
        """
        found: list[tuple[str, int]] = []
        for groups, body in self.items(node, "patterns") if node is not None else ():
            bit = 0
            for group in groups.split("+"):
                bit |= self.group_bit(group.strip(), body)
            for regex, item in self.strings(body, f"patterns.{group}"):
                try:
                    re.compile(regex)
                except re.error as exc:
                    raise self.fail(item, f"bad regular expression: {exc}") from exc
                if not _sre_parser.parse(regex).getwidth()[0]:  # the scan would stop there
                    raise self.fail(item, "a pattern must match at least one character")
                found.append((regex, bit))
        return found

    def group_bit(self, group: str, node: Node) -> int:
        """Return the bit of a group that must already be defined under 'words'."""
        if group not in self.bits:
            raise self.fail(node, f"unknown word group {group!r}; define it under 'words'")
        return self.bits[group]

    def mask(self, node: Node | None, what: str) -> int:
        """OR the bits of a list of group names."""
        if node is None:
            return 0
        mask = 0
        for group, item in self.strings(node, what):
            mask |= self.group_bit(group, item)
        return mask

    def hours(self, node: Node) -> frozenset[int]:
        """Read the local hours (0-23) that count as night."""
        hours = set()
        for value, item in self.strings(node, "night_hours"):
            if not value.isdigit() or int(value) > 23:
                raise self.fail(item, f"night hour {value!r} must be a whole number 0..23")
            hours.add(int(value))
        return frozenset(hours)

    def code(self, name: str, node: Node) -> CodeRules:
        """Read one code's scope, triggers and severity ladder."""
        known = {"scope", "fixable", "triggers", "severity"}
        body = self.mapping(node, f"codes.{name}")
        self.check_keys(node, body, f"codes.{name}", known, {"triggers", "severity"})
        if name not in CODES:
            raise self.fail(node, f"unknown finding code {name!r}; known: {list(CODES)}")
        scope = self.choice(body.get("scope"), ("segment", "report"), "scope")
        triggers = self.rules(body["triggers"], f"codes.{name}.triggers", severity=False)
        return CodeRules(
            code=name,
            report_scope=scope == "report",
            fixable=self.choice(body.get("fixable"), ("true", "false"), "fixable") == "true",
            triggers=triggers,
            severity=self.ladder(body["severity"], f"codes.{name}.severity"),
            trigger_bits=_any_bits(rule.need for rule in triggers),
            trigger_needs=_least_needs([rule.need for rule in triggers]),
        )

    def choice(self, node: Node | None, allowed: tuple[str, ...], what: str) -> str:
        """Read an optional one-of value (the first allowed value is the default)."""
        if node is None:
            return allowed[0]
        value = self.scalar(node, what).lower()
        if value not in allowed:
            raise self.fail(node, f"{what} must be one of {list(allowed)}, not {value!r}")
        return value

    def rules(self, node: Node, what: str, *, severity: bool) -> tuple[Rule, ...]:
        """Read a list of {all: [...], none: [...], within: clause} conditions."""
        if not isinstance(node, SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a non-empty list")
        rules = tuple(self.rule(item, what, severity=severity) for item in node.value)
        for rule, item in zip(rules, node.value, strict=True):
            if not severity and not rule.all_bits | rule.clause_bits:
                raise self.fail(item, f"a rule of {what} needs 'all' or 'clause' groups")
        return rules

    def rule(self, node: Node, what: str, *, severity: bool) -> Rule:
        """Read one condition, checking every group name it uses."""
        body = self.mapping(node, what)
        known = {"all", "none", "within", "clause"} | ({"level"} if severity else set())
        needed = {"level"} if severity else set()
        self.check_keys(node, body, what, known, needed)
        within = self.choice(body.get("within"), ("segment", "clause"), "within")
        level = self.choice(body["level"], SEVERITIES, "level") if severity else ""
        all_bits = self.mask(body.get("all"), f"{what}.all")
        clause_bits = self.mask(body.get("clause"), f"{what}.clause")
        return Rule(
            all_bits=all_bits,
            none_bits=self.mask(body.get("none"), f"{what}.none"),
            within_clause=within == "clause",
            severity=level,
            clause_bits=clause_bits,
            need=all_bits | clause_bits,
        )

    def ladder(self, node: Node, what: str) -> tuple[Rule, ...]:
        """Read severity rules; the last must be unconditional so every finding gets a level."""
        rules = self.rules(node, what, severity=True)
        if rules[-1].all_bits or rules[-1].none_bits or rules[-1].clause_bits:
            raise self.fail(node.value[-1], f"the last rule of {what} must have no conditions")
        return rules

    def fraud_type_bits(self, node: Node) -> tuple[tuple[str, int], ...]:
        """List the fraud types in file order (earlier wins a tie) with their bits."""
        return tuple((name, self.bits[f"type:{name}"]) for name, _ in self.items(node, "types"))


def _combined_pattern(patterns: list[tuple[str, int]]) -> re.Pattern[str] | None:
    """One regex of the explicit patterns, to find where any of them starts to match.

    When every pattern tells the characters it can start with, the regex is a choice of those
    characters, each followed by the patterns that can start with it, in file order, tried
    from that character by a look-ahead within a look-behind: ``c(?<=(?=(?:A|B))c)``. A
    choice that opens with plain characters lets the regex engine skip in C over the places
    where no pattern can start, and rule out each other character with one comparison; where
    a pattern can start, only the few that can are tried, not all 80. A match is then just
    the start character: ``Knowledge.pattern_token`` tells where the pattern ends.
    """
    if not patterns:
        return None
    regexes = [regex for regex, _ in patterns]
    starts = [_first_chars(regex) for regex in regexes]
    known = [first for first in starts if first is not None]
    if len(known) < len(starts):
        return re.compile("|".join(f"(?:{regex})" for regex in regexes))
    choices = []
    for char in sorted(set().union(*known)):
        these = "|".join(
            f"(?:{regex})" for regex, first in zip(regexes, known, strict=True) if char in first
        )
        c = re.escape(char)
        choices.append(f"{c}(?<=(?=(?:{these})){c})")
    return re.compile("|".join(choices))


def _by_first(
    patterns: list[tuple[str, int]],
) -> dict[str, tuple[tuple[re.Pattern[str], int], ...]]:
    """For each character a pattern may start with, the patterns (in order) that may match there.

    A character not listed falls back to all patterns; so does every character when a pattern
    does not tell its first characters.
    """
    compiled = [(re.compile(regex), bits, _first_chars(regex)) for regex, bits in patterns]
    if any(first is None for _, _, first in compiled):
        return {}
    chars = set().union(*(first for _, _, first in compiled if first is not None))
    return {
        char: tuple((regex, bits) for regex, bits, first in compiled if first and char in first)
        for char in chars
    }


def _first_chars(regex: str) -> set[str] | None:
    """The characters a match of ``regex`` can start with, or None when that is not simple."""
    try:
        return _first_of(list(_sre_parser.parse(regex)))
    except (ValueError, TypeError, IndexError, re.error):
        return None


def _first_of(items: list[tuple[Any, Any]]) -> set[str] | None:
    """First characters of a parsed sequence; look-behinds before the first item are skipped."""
    for op, av in items:
        if op is _sre.ASSERT and av[0] < 0:
            continue  # a look-behind consumes nothing
        return _first_item(op, av)
    return None


def _first_item(op: Any, av: Any) -> set[str] | None:
    """First characters of one parsed item (literal, class, branch, group, repeat)."""
    if op is _sre.LITERAL:
        return {chr(av)}
    if op is _sre.IN:
        return _first_in(av)
    if op is _sre.BRANCH:
        firsts = [_first_of(list(branch)) for branch in av[1]]
        return None if any(f is None for f in firsts) else set().union(*firsts)  # type: ignore[arg-type]
    if op is _sre.SUBPATTERN:
        return _first_of(list(av[-1]))
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] >= 1:
        return _first_of(list(av[2]))
    return None


def _first_in(av: list[tuple[Any, Any]]) -> set[str] | None:
    """Characters of a class like ``[0-9一二三]`` (no negation, no categories, small ranges)."""
    chars: set[str] = set()
    for op, value in av:
        if op is _sre.LITERAL:
            chars.add(chr(value))
        elif op is _sre.RANGE and value[1] - value[0] < 256:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        else:
            return None
    return chars


def _any_of(table: dict[int, str]) -> re.Pattern[str]:
    """A regex matching any one character the normalisation table changes.

    The table also maps some characters to themselves (the traditional list repeats simplified
    ones such as 堆, 箱): leaving those out saves a replacement call on most reports.
    """
    changed = sorted(code for code, char in table.items() if chr(code) != char)
    return re.compile("[" + "".join(re.escape(chr(code)) for code in changed) + "]")


def _frequent_swaps(table: dict[int, str]) -> tuple[tuple[str, str], ...]:
    """The table's swaps of the full-width "，：；", which ``normalise`` makes first.

    A swap whose result the table changes again is left out: made first, it would be made
    twice.
    """
    pairs = []
    for char in "，：；":
        swapped = table.get(ord(char), char)
        if swapped != char and table.get(ord(swapped), swapped) == swapped:
            pairs.append((char, swapped))
    return tuple(pairs)


def _any_bits(masks: Iterator[int]) -> int:
    """OR some masks."""
    mask = 0
    for m in masks:
        mask |= m
    return mask


def _least_needs(needs: list[int]) -> tuple[int, ...]:
    """The needs that hold no other need, in file order, each once.

    The engine only asks whether *some* trigger's groups are all present: a need that holds
    another is met only when the other is, so it adds nothing (the shipped rules' 89 needs
    become 73).
    """
    least: list[int] = []
    for need in needs:
        holds_another = any(other != need and need & other == other for other in needs)
        if not holds_another and need not in least:
            least.append(need)
    return tuple(least)


def _trie(phrases: dict[str, int]) -> dict[str, Any]:
    """Nest the phrases char by char: the root maps a character to its node.

    A node is ``(bits, children)``: the bits of the phrase ending there (0: none does) and the
    nodes of the next characters. A pair unpacks faster than a dict answers ``"" in node``,
    and the walk visits ~40 nodes a report.
    """
    nested: dict[str, Any] = {}
    for phrase, bits in phrases.items():
        node = nested
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = bits
    return {char: _frozen_node(child) for char, child in nested.items()}


def _frozen_node(node: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Turn one nested-dict node into ``(bits, children)``, recursively."""
    children = {char: _frozen_node(child) for char, child in node.items() if char}
    return node.get("", 0), children
