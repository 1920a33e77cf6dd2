"""The triage engine: one regex scan of a report, then word-group logic on integer masks.

Why this shape: classification must run at tens of thousands of reports per second on one core
and explain itself. So the text is normalised char for char (offsets stay valid), scanned once by
the compiled trie of all phrases in rules.yaml, and every later step works on a handful of
tokens ``(start, end, bits)``:

    text -> tokens -> sentences[clauses[tokens]]   split at punctuation and "但" etc.
         -> negation inside each clause             "未发现…", "无…", "…畅通", "提醒不要…"
         -> publicity / drill sentences muted       unless something was actually found
         -> segments (clauses up to a fix, or "另…") each with fixed / fixed-earlier flags
         -> per code: first trigger rule that holds, then the first severity rule that holds

``category_hint`` and ``place_type`` are accepted but never decide: only the text does, since
both are often wrong in real reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from streams.triage.knowledge import ROLE_GROUPS, SEVERITIES, CodeRules, Knowledge, Rule

__all__ = ["Evidence", "Finding", "Triage", "TriageEngine"]

Token = tuple[int, int, int]  # (start, end, bits of the word groups it belongs to)
_RANK = {level: i for i, level in enumerate(SEVERITIES)}
_NINGBO = timezone(timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class Evidence:
    """A phrase that contributed to a finding, with its offsets in the original text."""

    phrase: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding code with its severity and the phrases behind it."""

    code: str
    severity: str
    evidence: tuple[Evidence, ...]
    fraud_type: str | None = None
    in_progress: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Render for JSON; fraud findings also carry their type and in-progress flag."""
        out: dict[str, Any] = {"code": self.code, "severity": self.severity}
        out["evidence"] = [
            {"phrase": e.phrase, "start": e.start, "end": e.end} for e in self.evidence
        ]
        if self.code == "TELECOM_FRAUD":
            out["fraud_type"] = self.fraud_type
            out["in_progress"] = self.in_progress
        return out


@dataclass(frozen=True, slots=True)
class Triage:
    """All findings of a report and the highest severity (None when nothing was found)."""

    findings: tuple[Finding, ...]
    severity: str | None

    def to_dict(self) -> dict[str, Any]:
        """Render for JSON."""
        return {"findings": [f.to_dict() for f in self.findings], "severity": self.severity}


_NOTHING = Triage((), None)


@dataclass(frozen=True, slots=True)
class _Segment:
    """Clauses judged together: a hazard, its place, and whether it was fixed (and when)."""

    clauses: tuple[tuple[Token, ...], ...]
    clause_masks: tuple[int, ...]
    mask: int
    fixed: bool
    historic: bool


@dataclass(frozen=True, slots=True)
class _Roles:
    """The bits of the groups whose meaning the engine implements, combined as it needs them."""

    sentence: int
    clause: int
    shift: int
    forward: int
    negator: int
    lack: int
    backward: int
    context: int
    found: int
    fix_done: int
    fix_verb: int
    done: int
    spot: int
    order: int
    historic: int
    recurrence: int
    unfixed: int
    equipment: int
    failure: int
    night: int
    role: int

    @classmethod
    def of(cls, bits: dict[str, int]) -> _Roles:
        """Look the groups up once, so the hot path only does integer arithmetic."""
        role = 0
        for name in ROLE_GROUPS:
            role |= bits[name]
        role &= ~bits["recurrence"]  # "未发现新的问题" must not read as a recurrence
        return cls(
            sentence=bits["sentence_break"],
            clause=bits["clause_break"],
            shift=bits["topic_shift"],
            forward=bits["advice"],
            negator=bits["not_found"] | bits["absence"],
            lack=bits["lack"],
            backward=bits["ok_status"],
            context=bits["context"],
            found=bits["found"],
            fix_done=bits["fix_done"],
            fix_verb=bits["fix_verb"],
            done=bits["done"],
            spot=bits["spot"],
            order=bits["order"],
            historic=bits["historic"],
            recurrence=bits["recurrence"],
            unfixed=bits["unfixed"],
            equipment=bits["equipment"],
            failure=bits["failure"],
            night=bits["night"],
            role=role,
        )


class TriageEngine:
    """Classify report texts with a compiled ``Knowledge``; thread-safe and stateless."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.roles = _Roles.of(knowledge.bits)
        self.trigger_bits = _trigger_bits(knowledge.codes)
        roles = self.roles
        self.follow_up = roles.fix_done | roles.fix_verb | roles.historic | roles.unfixed

    def classify(
        self,
        text: str,
        category_hint: str | None = None,
        place_type: str | None = None,
        reported_at: datetime | None = None,
    ) -> Triage:
        """Find the hazards and fraud in one report text.

        Args:
            text: the report text as written (evidence offsets refer to it).
            category_hint: what the app user picked; accepted as context, never trusted.
            place_type: the place the reporter picked; accepted as context, never trusted.
            reported_at: aware report time; its Ningbo-local hour can make a report "night".
        """
        tokens = self.scan(text)
        if not _mask(tokens) & self.trigger_bits:
            return _NOTHING  # most clean reports stop here
        sentences = [self.mute_context(s) for s in _sentences(tokens, self.roles)]
        segments = self.segments(sentences)
        extra = self.report_extra(segments, reported_at)
        findings = [self.judge(code, segments, extra, text) for code in self.knowledge.codes]
        found = tuple(f for f in findings if f is not None)
        return Triage(found, max((f.severity for f in found), key=_RANK.__getitem__, default=None))

    def scan(self, text: str) -> list[Token]:
        """Tokenise the normalised text: explicit patterns first, else the longest phrase."""
        k = self.knowledge
        norm = text.translate(k.table)
        found = k.pattern.finditer(norm) if k.pattern else ()
        special = {m.start(): (m.end(), k.pattern_bits[m.lastgroup or ""]) for m in found}
        return _walk(norm, k.trie, special)

    def mute_context(self, clauses: list[list[Token]]) -> list[list[Token]]:
        """Negate inside clauses, then mute a publicity/drill sentence that reports no finding."""
        roles = self.roles
        clauses = [_negate(c, roles) for c in clauses]
        mask = _mask(t for c in clauses for t in c)
        if mask & roles.context and not mask & roles.found:
            return [[(s, e, b & roles.role) for s, e, b in c] for c in clauses]
        return clauses

    def segments(self, sentences: list[list[list[Token]]]) -> list[_Segment]:
        """Cut sentences into segments; a segment with only a fix passes it to the one before."""
        out: list[_Segment] = []
        for clauses in sentences:
            for group in _cut(clauses, self.roles):
                seg = _segment(group, self.roles)
                if out and not seg.mask & self.trigger_bits and seg.mask & self.follow_up:
                    seg = _inherit(out.pop(), seg, self.roles)
                out.append(seg)
        return out

    def report_extra(self, segments: list[_Segment], reported_at: datetime | None) -> int:
        """Bits that hold report-wide for severity (night, occupied…), plus night by the clock."""
        mask = _mask_of(segments) & self.knowledge.report_wide
        if reported_at is not None and _local_hour(reported_at) in self.knowledge.night_hours:
            mask |= self.roles.night
        return mask

    def judge(
        self, code: CodeRules, segments: list[_Segment], extra: int, text: str
    ) -> Finding | None:
        """Decide one code over the report: per segment, or over the whole report for fraud."""
        report = _mask_of(segments)
        if not any(report & r.need == r.need for r in code.triggers):
            return None
        if code.report_scope:
            segments = [_whole(segments)]
        hits = [hit for seg in segments if (hit := self.hit(code, seg, extra)) is not None]
        if not hits:
            return None
        level = max((h[0] for h in hits), key=_RANK.__getitem__)
        evidence = _evidence(text, sorted({t for h in hits for t in h[1]}))
        if code.code != "TELECOM_FRAUD":
            return Finding(code.code, level, evidence)
        fraud_type = self.fraud_type([t for h in hits for t in h[1]])
        return Finding(code.code, level, evidence, fraud_type, level == "critical")

    def hit(self, code: CodeRules, seg: _Segment, extra: int) -> tuple[str, list[Token]] | None:
        """Return (severity, evidence tokens) when a trigger holds in the segment."""
        if code.fixable and self.fixed_earlier(seg):
            return None
        mask = seg.mask
        trigger = next(
            (r for r in code.triggers if mask & r.need == r.need and _holds(r, seg, 0)), None
        )
        if trigger is None:
            return None
        grade = next(r for r in code.severity if _holds(r, seg, extra))
        level = "low" if code.fixable and seg.fixed else grade.severity
        wanted = trigger.all_bits | trigger.clause_bits | grade.all_bits | grade.clause_bits
        if code.report_scope:
            wanted |= self.knowledge.bits["fraud_topic"]  # the type's words explain it too
        return level, [t for c in seg.clauses for t in c if t[2] & wanted]

    def fixed_earlier(self, seg: _Segment) -> bool:
        """An earlier hazard now fixed or no longer seen ("上周…，今日复查已整改/未发现")."""
        roles = self.roles
        if not seg.historic or seg.mask & roles.recurrence:
            return False
        return seg.fixed or bool(seg.mask & (roles.negator | roles.backward))

    def fraud_type(self, tokens: list[Token]) -> str | None:
        """Pick the fraud class with the most evidence; ties go to the one listed first."""
        best, best_count = None, 0
        for name, bit in self.knowledge.fraud_types:
            count = sum(1 for t in tokens if t[2] & bit)
            if count > best_count:
                best, best_count = name, count
        return best


def _walk(text: str, trie: dict[str, Any], special: dict[int, tuple[int, int]]) -> list[Token]:
    """One left-to-right pass taking, at each place, a pattern match or the longest phrase.

    Written as one loop on purpose: this is the hot path (a function call per character
    would double the cost of classification).
    """
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if i in special:
            end, bits = special[i]
        else:
            node = trie.get(text[i])
            end, bits = 0, 0
            j = i
            while node is not None:
                j += 1
                if "" in node:
                    end, bits = j, node[""]
                node = node.get(text[j]) if j < n else None
        if end:
            out.append((i, end, bits))
            i = end
        else:
            i += 1
    return out


def _trigger_bits(codes: tuple[CodeRules, ...]) -> int:
    """All groups any trigger needs: a segment without them carries no finding of its own."""
    mask = 0
    for code in codes:
        for rule in code.triggers:
            mask |= rule.all_bits
    return mask


def _sentences(tokens: list[Token], roles: _Roles) -> list[list[list[Token]]]:
    """Group tokens into sentences of clauses, dropping the punctuation tokens themselves."""
    sentences: list[list[list[Token]]] = [[[]]]
    for token in tokens:
        if token[2] & roles.sentence:
            sentences.append([[]])
        elif token[2] & roles.clause:
            sentences[-1].append([])
        else:
            sentences[-1][-1].append(token)
    return [[c for c in s if c] for s in sentences if any(s)]


def _negate(clause: list[Token], roles: _Roles) -> list[Token]:
    """Apply negation inside one clause.

    "未发现/无/没有" mute every hazard word of their clause ("楼道无堆放", "未发现飞线充电");
    "提醒/不要" mute the words after them; "畅通/正常/完好" mute the words before them.
    "无/没有/缺" right before a piece of fire equipment means it is missing, unless a fault word
    follows ("无灭火器过期" is a negation, "没有灭火器" a missing extinguisher).
    """
    if any(_negates_clause(clause, i, roles) for i in range(len(clause))):
        return [(s, e, b & roles.role) for s, e, b in clause]
    out: list[Token] = []
    forward = False
    for i, (start, end, bits) in enumerate(clause):
        if bits & roles.backward:
            out = [(s, e, b & roles.role) for s, e, b in out]
        if forward:
            bits &= roles.role
        elif bits & roles.lack and _missing(clause, i, roles):
            bits |= roles.failure
        elif bits & roles.forward:
            forward = True
        out.append((start, end, bits))
    return out


def _negates_clause(clause: list[Token], i: int, roles: _Roles) -> bool:
    """A "no" word negates its whole clause when a hazard word follows it ("楼道无堆放").

    One at the end ("灭火器过期未换") only says nothing was done yet, so it negates nothing.
    """
    if not clause[i][2] & roles.negator or _missing(clause, i, roles):
        return False
    return any(t[2] & ~roles.role for t in clause[i + 1 :])


def _missing(clause: list[Token], i: int, roles: _Roles) -> bool:
    """Tell whether the absence word at ``i`` says a piece of equipment is missing."""
    if not clause[i][2] & roles.lack or i + 1 >= len(clause):
        return False
    if not clause[i + 1][2] & roles.equipment:
        return False
    if clause[i + 1][0] - clause[i][1] > 2:
        return False
    return not any(t[2] & roles.failure for t in clause[i + 1 :])


def _cut(clauses: list[list[Token]], roles: _Roles) -> list[list[list[Token]]]:
    """Split a sentence's clauses before "另/此外…" and after a clause that reports a fix."""
    groups: list[list[list[Token]]] = [[]]
    for clause in clauses:
        if groups[-1] and _mask(clause) & roles.shift:
            groups.append([])
        groups[-1].append(clause)
        if _fixed(_mask(clause), roles):
            groups.append([])
    return [g for g in groups if g]


def _fixed(mask: int, roles: _Roles) -> bool:
    """A clause reports a fix: "整改到位"; "当场" + a fixing verb; "已" + one with no order pending.

    "已通知物业更换" is an order, not a fix; "督促店主当场搬走" is a fix on the spot.
    """
    if mask & roles.unfixed:
        return False
    if mask & roles.fix_done or (mask & roles.fix_verb and mask & roles.spot):
        return True
    return bool(mask & roles.fix_verb and mask & roles.done and not mask & roles.order)


def _segment(clauses: list[list[Token]], roles: _Roles) -> _Segment:
    """Freeze a group of clauses with its masks and fix flags."""
    masks = tuple(_mask(c) for c in clauses)
    mask = _mask_bits(masks)
    return _Segment(
        clauses=tuple(tuple(c) for c in clauses),
        clause_masks=masks,
        mask=mask,
        fixed=any(_fixed(m, roles) for m in masks),
        historic=bool(mask & roles.historic),
    )


def _inherit(previous: _Segment, fix: _Segment, roles: _Roles) -> _Segment:
    """Merge a follow-up segment ("已当场整改。", "车主拒不整改") into the hazard before it."""
    return _Segment(
        clauses=previous.clauses + fix.clauses,
        clause_masks=previous.clause_masks + fix.clause_masks,
        mask=previous.mask | fix.mask,
        fixed=(previous.fixed or fix.fixed) and not fix.mask & roles.unfixed,
        historic=previous.historic or fix.historic,
    )


def _whole(segments: list[_Segment]) -> _Segment:
    """The whole report as one segment (fraud stories run over several sentences)."""
    clauses = tuple(c for s in segments for c in s.clauses)
    masks = tuple(m for s in segments for m in s.clause_masks)
    return _Segment(clauses, masks, _mask_bits(masks), fixed=False, historic=False)


def _holds(rule: Rule, seg: _Segment, extra: int) -> bool:
    """Check a rule on the segment, or on each clause when it says ``within: clause``.

    ``clause`` groups must also meet in one clause ("给电动汽车充电": the car is what charges).
    """
    if rule.within_clause:
        return any(rule.holds(m | extra) for m in seg.clause_masks)
    if not rule.holds(seg.mask | extra):
        return False
    need = rule.clause_bits
    return not need or any(m & need == need for m in seg.clause_masks)


def _mask(tokens: Any) -> int:
    """OR the bits of some tokens."""
    mask = 0
    for token in tokens:
        mask |= token[2]
    return mask


def _mask_bits(masks: tuple[int, ...]) -> int:
    """OR some masks."""
    mask = 0
    for m in masks:
        mask |= m
    return mask


def _mask_of(segments: list[_Segment]) -> int:
    """OR the masks of all segments."""
    return _mask_bits(tuple(s.mask for s in segments))


def _local_hour(moment: datetime) -> int:
    """Hour of the day in Ningbo (a naive time is taken as already local)."""
    return moment.astimezone(_NINGBO).hour if moment.tzinfo else moment.hour


def _evidence(text: str, tokens: list[Token]) -> tuple[Evidence, ...]:
    """Turn tokens into evidence quoting the original (not normalised) text."""
    return tuple(Evidence(text[s:e], s, e) for s, e, _ in tokens)
