"""The triage engine: one scan of a report, then word-group logic on integer masks.

Why this shape: classification must run at tens of thousands of reports per second on one core
and explain itself. So the text is normalised char for char (offsets stay valid), scanned once
with the character trie of all phrases in rules.yaml, and every later step works on a handful
of tokens ``(start, end, bits)`` and on the OR of their bits:

    text -> clauses of tokens                       one scan, cut at punctuation, "但" etc.;
                                                    a report whose words cannot meet any
                                                    trigger (routine notes) stops here
         -> sentences[clauses], each clause negated ("未发现…", "无…", "…畅通", "提醒不要…");
                                                    an "all fine" closing a spaced list
                                                    ("堆物 充电 飞线 全部正常") clears its items
         -> publicity / drill sentences muted       unless something was actually found
         -> segments (clauses up to a fix, or "另…") each with fixed / fixed-earlier flags
         -> per code: first trigger rule that holds, then the first severity rule that holds

A clause is ``(tokens, mask)``: the rules only look at masks, the tokens are kept for evidence.
Small things are tuples, not objects, and each mask is computed once and passed along: at
~30 µs a report, building a frozen object or re-OR-ing a list is a visible cost.

``category_hint`` and ``place_type`` are accepted but never decide: only the text does, since
both are often wrong in real reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple, Protocol

from streams.triage.knowledge import (
    ROLE_GROUPS,
    SEVERITIES,
    SEVERITY_RANK,
    CodeRules,
    Knowledge,
    Rule,
)

__all__ = ["Evidence", "Finding", "Review", "Triage", "TriageEngine"]

Token = tuple[int, int, int]  # (start, end, bits of the word groups it belongs to)
Clause = tuple[list[Token], int]  # (tokens, OR of their bits)
Piece = tuple[list[Token], int, int]  # a clause as scanned, with the bits of the break after it
Clauses = tuple[list[Clause], int]  # a sentence or part of one: (clauses, OR of their masks)
_RANK = SEVERITY_RANK
_NINGBO_OFFSET = timedelta(hours=8)
_NINGBO = timezone(_NINGBO_OFFSET)


class Evidence(NamedTuple):
    """A phrase that contributed to a finding, with its offsets in the original text.

    A named tuple rather than a frozen dataclass: a report has several, and building a frozen
    dataclass costs twice as much.
    """

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


class _Segment(NamedTuple):
    """Clauses judged together: a hazard, its place, and whether it was fixed (and when)."""

    clauses: tuple[Clause, ...]
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
    nothing: int  # "未发现": also negates when said after the hazard
    lack: int
    backward: int
    context: int
    notice: int  # a notice or forwarded warning read out: no finding unless "still"
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
    phenomenon: int  # "…的现象/情况": a later bare "没有" negates it
    place: int  # route | indoors: "楼道里没有" is a negation
    role: int
    breaks: int  # sentence | clause
    fixing: int  # fix_done | fix_verb: a clause without them reports no fix
    negation: int  # any word that can change a clause's meaning when it closes
    follow_up: int  # a fix or its failure, said after the hazard ("已当场整改。")
    all_clear: int  # "…全部正常" closing a list: also clears the items spaced before it
    list_break: int  # the space between a list's items
    rule_question: int  # "算不算违规?": a question about the rules, muted as context
    case_ref: int  # "我们楼天天这样": the case asked about is real, said in the next sentence
    plan: int  # "我想在店门口摆几张桌子": the reporter's own plan, asked about, not yet done
    live: int  # "对方现在还在电话里": happening now, which no notice or publicity tells

    @classmethod
    def of(cls, bits: dict[str, int]) -> _Roles:
        """Look the groups up once, so the hot path only does integer arithmetic."""
        role = 0
        for name in (*ROLE_GROUPS, "vacant"):  # "里面没人" must survive its own negation
            role |= bits[name]
        role &= ~bits["recurrence"]  # "未发现新的问题" must not read as a recurrence
        negation = bits["not_found"] | bits["absence"] | bits["lack"]
        follow_up = bits["fix_done"] | bits["fix_verb"] | bits["historic"] | bits["unfixed"]
        return cls(
            sentence=bits["sentence_break"],
            clause=bits["clause_break"],
            shift=bits["topic_shift"],
            forward=bits["advice"],
            negator=bits["not_found"] | bits["absence"],
            nothing=bits["not_found"],
            lack=bits["lack"],
            backward=bits["ok_status"],
            context=bits["context"],
            notice=bits["notice"],
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
            phenomenon=bits["phenomenon"],
            place=bits["route"] | bits["indoors"],
            role=role,
            breaks=bits["sentence_break"] | bits["clause_break"],
            fixing=bits["fix_done"] | bits["fix_verb"],
            negation=negation | bits["advice"] | bits["ok_status"],
            follow_up=follow_up,
            all_clear=bits["all_clear"],
            list_break=bits["list_break"],
            rule_question=bits["rule_question"],
            case_ref=bits["case_ref"],
            plan=bits["plan"],
            live=bits["live"],
        )


class Review(Protocol):
    """A second opinion on the rules' findings (streams/triage/model.py)."""

    def review(
        self, triage: Triage, text: str, category_hint: str | None, place_type: str | None
    ) -> Triage:
        """The findings, with codes added or removed."""
        ...


class TriageEngine:
    """Classify report texts with a compiled ``Knowledge``; thread-safe and stateless.

    ``second_opinion``: reviews the rules' findings (the learned model); None: rules alone.
    """

    def __init__(self, knowledge: Knowledge, second_opinion: Review | None = None) -> None:
        self.knowledge = knowledge
        self.second_opinion = second_opinion
        self.roles = _Roles.of(knowledge.bits)
        self.trigger_bits = _trigger_bits(knowledge.codes)
        self.fraud_topic = knowledge.bits["fraud_topic"]

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
        found = self.rules(text, reported_at)
        if self.second_opinion is None:
            return found
        return self.second_opinion.review(found, text, category_hint, place_type)

    def rules(self, text: str, reported_at: datetime | None = None) -> Triage:
        """What the rules alone find (``classify`` without the second opinion)."""
        pieces, mask = self.scan(text)
        codes = self.possible_codes(mask)
        if not codes:
            return _NOTHING  # routine notes stop here: one scan, no segmentation
        segments = self.segments(self.sentences(pieces))
        report = _report_mask(segments)
        codes = [code for code in codes if _may_trigger(code, report)]
        if not codes:
            return _NOTHING  # what could have fired was negated or muted
        extra = self.report_extra(report, reported_at)
        return self.triage(codes, segments, report, extra, text)

    def triage(
        self, codes: list[CodeRules], segments: list[_Segment], report: int, extra: int, text: str
    ) -> Triage:
        """Judge the codes that may fire; the report's severity is the highest found."""
        found: list[Finding] = []
        rank = -1
        for code in codes:
            finding = self.judge(code, segments, report, extra, text)
            if finding is not None:
                found.append(finding)
                rank = max(rank, _RANK[finding.severity])
        return Triage(tuple(found), SEVERITIES[rank] if found else None)

    def scan(self, text: str) -> tuple[list[Piece], int]:
        """Tokenise the normalised text into clauses, with the OR of all their bits.

        At each place an explicit pattern wins, else the longest phrase.
        """
        k = self.knowledge
        norm = k.normalise(text)
        return _walk(norm, k.trie, k.pattern_tokens(norm), self.roles.breaks)

    def possible_codes(self, mask: int) -> list[CodeRules]:
        """The codes whose triggers the words found could meet, before any negation.

        Negation and muting only take groups away, with one exception: "没有" right before
        fire equipment adds ``failure`` (a missing extinguisher).
        """
        if mask & self.roles.lack:
            mask |= self.roles.failure
        codes = self.knowledge.codes
        return [code for code in codes if mask & code.trigger_bits and _may_trigger(code, mask)]

    def sentences(self, pieces: list[Piece]) -> list[Clauses]:
        """Negate each clause and group the clauses into sentences, dropping empty ones.

        Publicity and drill sentences are muted as they close (see ``mute_context``). An "all
        fine" closing a list ("楼道堆物 电动车充电 飞线 全部正常") also mutes the items joined
        to it by spaces, which cut them into clauses of their own; an item after a comma
        ("2幢楼道堆满杂物,其余全部正常") is not one of them. A rules question ("楼道里充电算不算
        违规?") is muted as context, unless the next sentence says the case is real ("我们楼
        有两户天天这样"): then it stands as said.
        """
        roles = self.roles
        sentences: list[Clauses] = []
        sentence: list[Clause] = []
        sentence_mask = 0
        listed = 0  # clauses at the end of the sentence joined to the next one by a space
        all_clear, list_break = roles.all_clear, roles.list_break
        asked: Clauses | None = None  # the last sentence, as said, when muted as a rules question
        for tokens, mask, stop in pieces:
            if tokens:
                clause = _negate(tokens, mask, roles) if mask & roles.negation else (tokens, mask)
                if mask & roles.negator and sentence and (back := _denied(mask, sentence, roles)):
                    sentence[-back:] = [_mute(c, roles.role) for c in sentence[-back:]]
                    sentence_mask = _mask_of(sentence)
                if mask & all_clear and listed:
                    sentence[-listed:] = [_mute(c, roles.role) for c in sentence[-listed:]]
                    sentence_mask = _mask_of(sentence)
                sentence.append(clause)
                sentence_mask |= clause[1]
                listed = listed + 1 if stop & list_break else 0
            elif not stop & list_break:
                listed = 0
            if stop & roles.sentence and sentence:
                if asked is not None and sentence_mask & roles.case_ref:
                    sentences[-1] = asked  # round10: "…算不算违规?我们楼天天这样。"
                closed = self.mute_context(sentence, sentence_mask)
                muted = closed[1] != sentence_mask and sentence_mask & roles.rule_question
                asked = (sentence, sentence_mask) if muted else None
                sentences.append(closed)
                sentence, sentence_mask, listed = [], 0, 0
        return sentences

    def mute_context(self, clauses: list[Clause], mask: int) -> Clauses:
        """Mute a publicity/drill sentence that reports no finding ("开展反诈宣传…").

        A notice read out ("看到物业贴了通知，说…") is muted even though "看到" says something
        was seen: what was seen is the notice, unless the sentence says the hazard is still there.
        A rules question about the reporter's own plan ("我想在店门口摆几张桌子，这样算不算占用
        消防通道?") is muted too: its "这样算不算" points back at the plan, not at a case seen.

        round16: neither mutes a sentence that tells something happening now ("96110预警说周阿姨
        正在和冒充公安局的人通话", "宣传摆摊时…对方现在还在电话里"): a warning or a stall that
        led to a live case reports it. A notice handed out after a case seen or fixed ("楼道有一辆
        电瓶车在充电…当场拔了插头…发了提醒卡") mutes only itself, not the case told before it.
        """
        roles = self.roles
        if mask & roles.live:
            return clauses, mask
        if mask & roles.notice:
            muted = not mask & roles.recurrence
            if muted and (before := _before_notice(clauses, roles)):
                kept = clauses[:before]
                rest = [_mute(c, roles.role) for c in clauses[before:]]
                return kept + rest, _mask_of(kept) | (mask & roles.role)
        else:
            publicity = mask & roles.context and not mask & roles.found
            muted = bool(publicity or (mask & roles.plan and mask & roles.rule_question))
        if muted:
            return [_mute(c, roles.role) for c in clauses], mask & roles.role
        return clauses, mask

    def segments(self, sentences: list[Clauses]) -> list[_Segment]:
        """Cut sentences into segments; a segment with only a fix passes it to the one before."""
        roles = self.roles
        out: list[_Segment] = []
        for sentence in sentences:
            for group in _cut(sentence, roles):
                seg = _segment(group, roles)
                if out and not seg.mask & self.trigger_bits and seg.mask & roles.follow_up:
                    seg = _inherit(out.pop(), seg, roles)
                out.append(seg)
        return out

    def report_extra(self, report: int, reported_at: datetime | None) -> int:
        """Bits that hold report-wide for severity (night, occupied…), plus night by the clock."""
        mask = report & self.knowledge.report_wide
        if reported_at is not None and _local_hour(reported_at) in self.knowledge.night_hours:
            mask |= self.roles.night
        return mask

    def judge(
        self, code: CodeRules, segments: list[_Segment], report: int, extra: int, text: str
    ) -> Finding | None:
        """Decide one code over the report: per segment, or over the whole report for fraud."""
        if code.report_scope:
            segments = [_whole(segments, report)]
        rank, tokens = -1, []
        for seg in segments:
            if (hit := self.hit(code, seg, extra)) is not None:
                rank = max(rank, _RANK[hit[0]])
                tokens += hit[1]  # still in text order: segments do not overlap
        if rank < 0:
            return None
        level = SEVERITIES[rank]
        if code.code != "TELECOM_FRAUD":
            return Finding(code.code, level, _evidence(text, tokens))
        fraud_type = self.fraud_type(tokens)
        return Finding(code.code, level, _evidence(text, tokens), fraud_type, level == "critical")

    def hit(self, code: CodeRules, seg: _Segment, extra: int) -> tuple[str, list[Token]] | None:
        """Return (severity, evidence tokens) when a trigger holds in the segment."""
        if not seg.mask & code.trigger_bits:
            return None  # not one word any trigger needs
        if code.fixable and seg.historic and self.fixed_earlier(seg, code.trigger_needs):
            return None
        trigger = _first_holding(code.triggers, seg, 0)
        if trigger is None:
            return None
        grade = _first_holding(code.severity, seg, extra) or code.severity[-1]
        level = "low" if code.fixable and seg.fixed else grade.severity
        wanted = trigger.need | grade.need
        if code.report_scope:
            wanted |= self.fraud_topic  # the type's words explain it too
        return level, [t for tokens, _ in seg.clauses for t in tokens if t[2] & wanted]

    def fixed_earlier(self, seg: _Segment, needs: tuple[int, ...]) -> bool:
        """A historic segment's hazard is fixed or no longer seen ("上周…，今日复查已整改").

        round10: a "no"/"fine" clears the hazard only when said at or after the past word, and,
        when the hazard was told first in a clause of its own with no past word, only in the
        same clause as a past or re-check word ("…被锁，已于当天整改。今日复查：出口可正常开启"):
        in "家中灭火器已过期，老人说昨天有人推销…，她没付" the past and the "no" belong to
        another story.
        """
        roles = self.roles
        if seg.mask & roles.recurrence:
            return False
        if seg.fixed:
            return True
        cleared = roles.negator | roles.backward
        if not seg.mask & cleared:
            return False
        past = present = repaired = False
        for _, mask in seg.clauses:
            if mask & roles.historic:
                if mask & cleared:
                    return True  # the re-check and its verdict together ("今日复查畅通")
                past = True
                # round14: a repair told as past in a clause of its own ("…滴水的消火栓，物业上周
                # 换了阀门"): a later "fine" clears the hazard even when it was told first
                repaired = repaired or _past_repair(mask, needs, roles)
            elif not past and any(mask & need == need for need in needs):
                present = True  # the hazard told first, with no past word before it
            elif past and (repaired or not present) and mask & cleared:
                return True
        return False

    def fraud_type(self, tokens: list[Token]) -> str | None:
        """Pick the fraud class with the most evidence; ties go to the one listed first."""
        present = _mask(tokens)
        best, best_count = None, 0
        for name, bit in self.knowledge.fraud_types:
            if not present & bit:
                continue  # most types have no word here: skip the count
            count = sum(1 for t in tokens if t[2] & bit)
            if count > best_count:
                best, best_count = name, count
        return best


def _walk(
    text: str, trie: dict[str, Any], special: dict[int, tuple[int, int]], breaks: int
) -> tuple[list[Piece], int]:
    """One left-to-right pass taking, at each place, a pattern match or the longest phrase.

    The tokens are cut into clauses on the way, at the ``breaks`` (punctuation, "但"…), which
    are dropped. Returns the clauses and the OR of all their bits.

    Written as one loop on purpose: this is the hot path (a function call per character
    would double the cost of classification; a second pass over the tokens adds a tenth).
    The characters are listed once, with a NUL after the last (no phrase has one), so the
    inner loop needs no bounds check. A trie node is ``(bits, children)`` (see ``_trie``);
    a character that starts no phrase (one in five) is passed over before any other work.
    """
    chars = [*text, "\0"]
    pieces: list[Piece] = []
    clause: list[Token] = []
    mask = total = 0
    i, n = 0, len(text)
    first = trie.get
    while i < n:
        if special and i in special:
            end, bits = special[i]
        else:
            node = first(chars[i])
            if node is None:
                i += 1
                continue
            end = 0  # no phrase yet (``bits`` is read only once there is one)
            j = i
            while node is not None:
                j += 1
                found, children = node
                if found:
                    end, bits = j, found
                node = children.get(chars[j])
            if not end:
                i += 1
                continue
        if bits & breaks:
            pieces.append((clause, mask, bits))
            clause, mask = [], 0
        else:
            clause.append((i, end, bits))
            mask |= bits
            total |= bits
        i = end
    pieces.append((clause, mask, breaks))  # the end of the text is a break of every kind
    return pieces, total


def _trigger_bits(codes: tuple[CodeRules, ...]) -> int:
    """All groups any trigger needs: a segment without them carries no finding of its own."""
    mask = 0
    for code in codes:
        mask |= code.trigger_bits
    return mask


def _may_trigger(code: CodeRules, report: int) -> bool:
    """Tell whether the report has all the groups of at least one of the code's triggers."""
    for need in code.trigger_needs:
        if report & need == need:
            return True
    return False


def _negate(tokens: list[Token], mask: int, roles: _Roles) -> Clause:
    """Apply negation inside one clause that has a negation word (most have none).

    "未发现/无/没有" mute every hazard word of their clause ("楼道无堆放", "未发现飞线充电");
    "提醒/不要" mute the words after them; "畅通/正常/完好" mute the words before them.
    "无/没有/缺" right before a piece of fire equipment means it is missing, unless a fault word
    follows ("无灭火器过期" is a negation, "没有灭火器" a missing extinguisher).
    """
    if mask & roles.negator and _negates_clause(tokens, roles):
        return _mute((tokens, mask), roles.role)
    if not mask & (roles.backward | roles.forward | roles.lack):
        return tokens, mask
    out: list[Token] = []
    forward = False
    for i, (start, end, bits) in enumerate(tokens):
        if bits & roles.backward:
            out = [(s, e, b & roles.role) for s, e, b in out]
        if forward:
            bits &= roles.role
        elif bits & roles.lack and _missing(tokens, i, roles):
            bits |= roles.failure
        elif bits & roles.forward:
            forward = True
        out.append((start, end, bits))
    return out, _mask(out)


def _before_notice(clauses: list[Clause], roles: _Roles) -> int:
    """How many clauses before the first notice tell a case seen or fixed (0: none).

    round16: "…当场拔了插头推到充电棚去充，…发了提醒卡": the card is the response to the case
    before it. A warning's own content comes after it or with it ("温馨提示：…", "…骗子很多"),
    and a case merely told before a warning ("最近有人冒充客服，骗子很多") has no "found" or fix.
    """
    for i, (_, mask) in enumerate(clauses):
        if mask & roles.notice:
            seen = _mask_of(clauses[:i])
            return i if seen & (roles.found | roles.fixing) else 0
    return 0


def _mute(clause: Clause, keep: int) -> Clause:
    """Keep only the ``keep`` bits of a clause's words (the roles: fixes, breaks, negators)."""
    tokens, mask = clause
    return [(s, e, b & keep) for s, e, b in tokens], mask & keep


def _negates_clause(clause: list[Token], roles: _Roles) -> bool:
    """A "no" word negates its whole clause when a hazard word follows it ("楼道无堆放").

    One at the end ("灭火器过期未换") only says nothing was done yet, so it negates nothing,
    unless it is a "nothing found" or closes a "现象/情况" ("飞线充电的情况没有").
    """
    for i, token in enumerate(clause):
        if token[2] & roles.negator and not _missing(clause, i, roles):
            if any(t[2] & ~roles.role for t in clause[i + 1 :]):
                return True
            if i and _closes(token[2], clause[:i], roles):
                return True
    return False


def _closes(bits: int, before: list[Token], roles: _Roles) -> bool:
    """A final "no" word denies what came before it in its clause.

    It does so when it says "nothing found" ("飞线充电未发现"), after a "现象/情况"
    ("…的情况没有"), or after nothing but a place ("楼道里没有").
    """
    if bits & roles.nothing or all(t[2] & roles.place for t in before):
        return True
    return any(t[2] & roles.phenomenon for t in before)


def _denied(mask: int, sentence: list[Clause], roles: _Roles) -> int:
    """How many clauses before it a clause of only "没有/未发现" denies (0: none).

    "…的现象，本次检查没有" denies the "现象/情况" just before; a "未发现" denies back to the
    last one, or else just the clause before. "以前没有", "又没有", "没有了" deny nothing.
    """
    if mask & ~roles.role or mask & (roles.historic | roles.recurrence | roles.fixing):
        return 0
    if sentence[-1][1] & roles.phenomenon and mask & (roles.nothing | roles.lack):
        return 1
    if not mask & roles.nothing:
        return 0
    for back, (_, before) in enumerate(reversed(sentence), 1):
        if before & roles.phenomenon:
            return back
    return 1


def _missing(clause: list[Token], i: int, roles: _Roles) -> bool:
    """Tell whether the absence word at ``i`` says a piece of equipment is missing.

    Said before it ("没有灭火器", no fault word after), or closing the clause right after it
    ("一个灭火器都没有", "烟感一个也没有", no fault word before).
    """
    if not clause[i][2] & roles.lack:
        return False
    if i + 1 == len(clause):
        return i > 0 and _next_to(clause[i - 1], clause[i], 3, roles) and not _fault(clause, roles)
    if not _next_to(clause[i + 1], clause[i], 2, roles):
        return False
    return not _fault(clause[i + 1 :], roles)


def _next_to(equipment: Token, word: Token, gap: int, roles: _Roles) -> bool:
    """A piece of equipment within ``gap`` characters of the absence word (either side)."""
    if not equipment[2] & roles.equipment:
        return False
    return max(equipment[0] - word[1], word[0] - equipment[1]) <= gap


def _past_repair(mask: int, needs: tuple[int, ...], roles: _Roles) -> bool:
    """A past clause that reports a repair and no hazard of its own ("上周换了阀门").

    Not an order ("上周已报修") nor a repair that failed; "去年更换的灭火器过期了" holds the hazard
    itself, so it is no repair of it.
    """
    if not mask & roles.fix_verb or mask & (roles.order | roles.unfixed):
        return False
    return not any(mask & need == need for need in needs)


def _fault(tokens: list[Token], roles: _Roles) -> bool:
    """Any fault word among the tokens ("过期", "没压力")."""
    return any(t[2] & roles.failure for t in tokens)


def _cut(sentence: Clauses, roles: _Roles) -> list[Clauses]:
    """Split a sentence's clauses before "另/此外…" and after a clause that reports a fix."""
    clauses, mask = sentence
    if not mask & (roles.shift | roles.fixing):
        return [sentence]  # the usual case: nothing to cut at
    groups: list[list[Clause]] = [[]]
    for clause in clauses:
        if groups[-1] and clause[0][0][2] & roles.shift:  # "另…" opens the clause
            groups.append([])
        groups[-1].append(clause)
        if _fixed(clause[1], roles):
            groups.append([])
    return [(g, _mask_of(g)) for g in groups if g]


def _fixed(mask: int, roles: _Roles) -> bool:
    """A clause reports a fix: "整改到位"; "当场" + a fixing verb; "已" + one with no order pending.

    "已通知物业更换" is an order, not a fix; "督促店主当场搬走" is a fix on the spot.
    """
    if mask & roles.unfixed:
        return False
    if mask & roles.fix_done or (mask & roles.fix_verb and mask & roles.spot):
        return True
    return bool(mask & roles.fix_verb and mask & roles.done and not mask & roles.order)


def _segment(group: Clauses, roles: _Roles) -> _Segment:
    """Freeze a group of clauses with its mask and fix flags."""
    clauses, mask = group
    fixed = bool(mask & roles.fixing) and any(_fixed(m, roles) for _, m in clauses)
    historic = bool(mask & roles.historic)
    return _new_tuple(_Segment, (tuple(clauses), mask, fixed, historic))  # see ``_evidence``


def _inherit(previous: _Segment, fix: _Segment, roles: _Roles) -> _Segment:
    """Merge a follow-up segment ("已当场整改。", "车主拒不整改") into the hazard before it."""
    return _Segment(
        clauses=previous.clauses + fix.clauses,
        mask=previous.mask | fix.mask,
        fixed=(previous.fixed or fix.fixed) and not fix.mask & roles.unfixed,
        historic=previous.historic or fix.historic,
    )


def _whole(segments: list[_Segment], report: int) -> _Segment:
    """The whole report as one segment (fraud stories run over several sentences)."""
    clauses = tuple(c for s in segments for c in s.clauses)
    return _Segment(clauses, report, fixed=False, historic=False)


def _first_holding(rules: tuple[Rule, ...], seg: _Segment, extra: int) -> Rule | None:
    """The first rule that holds in the segment (with ``extra`` report-wide bits), if any."""
    mask = seg.mask | extra
    for rule in rules:
        if mask & rule.need == rule.need and _holds(rule, seg, extra):
            return rule
    return None


def _holds(rule: Rule, seg: _Segment, extra: int) -> bool:
    """Check a rule on the segment, or on each clause when it says ``within: clause``.

    Called once the rule's groups are known to be present in the segment. ``clause`` groups
    must also meet in one clause ("给电动汽车充电": the car is what charges).
    """
    if rule.within_clause:
        return any(rule.holds(m | extra) for _, m in seg.clauses)
    if (seg.mask | extra) & rule.none_bits:
        return False
    need = rule.clause_bits
    return not need or any(m & need == need for _, m in seg.clauses)


def _mask(tokens: list[Token]) -> int:
    """OR the bits of some tokens."""
    mask = 0
    for token in tokens:
        mask |= token[2]
    return mask


def _mask_of(clauses: list[Clause]) -> int:
    """OR the masks of some clauses."""
    mask = 0
    for _, clause_mask in clauses:
        mask |= clause_mask
    return mask


def _report_mask(segments: list[_Segment]) -> int:
    """OR the masks of all segments: the groups present anywhere in the report."""
    mask = 0
    for seg in segments:
        mask |= seg.mask
    return mask


def _local_hour(moment: datetime) -> int:
    """Hour of the day in Ningbo (a naive time is taken as already local)."""
    if moment.tzinfo is None or moment.utcoffset() == _NINGBO_OFFSET:
        return moment.hour  # naive, or stamped in Ningbo time already (the usual case)
    return moment.astimezone(_NINGBO).hour


def _evidence(text: str, tokens: list[Token]) -> tuple[Evidence, ...]:
    """Turn tokens into evidence quoting the original (not normalised) text.

    ``tuple.__new__`` builds each named tuple in C: the generated ``Evidence(...)`` constructor
    is a Python function, and a report has about five pieces of evidence.
    """
    return tuple([_new_tuple(Evidence, (text[s:e], s, e)) for s, e, _ in tokens])


_new_tuple = tuple.__new__
