"""Build blind21 from the hand-written sources src*.txt beside this file.

Every text and every label (codes, severity) is written by hand in src*.txt, one row per report:
    role|place|hint|hour|dist|codes|sev|tags|text
A literal backslash-n in a text stands for a line break (WeCom group messages pasted line by line).
Only the metadata (order, ids, district where the text names none, grid id, street, timestamps,
channel, optional fields) is generated here, with a fixed seed. Paths are relative to this file.
Before anything is written, every text is compared (character-bigram Jaccard) with every text of
the other *_reports.jsonl files in the parent directory; the build fails on a near-copy. Only this
set's own texts are printed, never an earlier set's.

    python build.py            # check the sources and print the distribution
    python build.py --write    # also (re)write ../blind21_reports.jsonl and ../blind21_labels.jsonl
"""
import glob
import json
import random
import re
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))  # the repository root, for the schema
from schemas.grid_report import grid_report_adapter  # noqa: E402

SET = "blind21"
PREFIX = "b21"
N = 150
R = random.Random(20330117)
CST = timezone(timedelta(hours=8))
YEAR = 2033  # 1 January is a Saturday, 31 December a Saturday (365 days)
OVERLAP_MAX = 0.30  # bigram Jaccard with any earlier text: fail at or above this
OVERLAP_SHOW = 0.25  # print this set's texts at or above this
CODES = dict(E="EBIKE_CHARGING", B="BLOCKED_EXIT", W="ILLEGAL_WIRING", F="FIRE_EQUIPMENT_FAILURE", T="TELECOM_FRAUD")
SEV = dict(l="low", m="medium", h="high", c="critical")
ROLES = dict(gw="grid_worker", cw="community_worker", co="courier", rd="ride_hailing_driver",
             td="truck_driver", re="resident", vo="volunteer", ho="hotline_operator")
PLACES = dict(ren="rental_housing", old="old_residential", nsv="nine_small_venue", hr="high_rise",
              ind="industrial", st="street", oth="other")
DIST = {  # county code, streets (none used by blind20, picked from the real street list), centre
    "海曙区": ("330203", [("白云街道", "BY"), ("古林镇", "GL")], (29.868, 121.545)),
    "江北区": ("330205", [("庄桥街道", "ZQ"), ("慈城镇", "CC")], (29.902, 121.558)),
    "北仑区": ("330206", [("大碶街道", "DQ"), ("霞浦街道", "XP")], (29.898, 121.848)),
    "镇海区": ("330211", [("骆驼街道", "LT"), ("澥浦镇", "XPZ")], (29.952, 121.712)),
    "鄞州区": ("330212", [("姜山镇", "JS"), ("首南街道", "SN")], (29.818, 121.558)),
    "奉化区": ("330213", [("岳林街道", "YL"), ("莼湖镇", "CH")], (29.657, 121.408)),
    "余姚市": ("330281", [("梨洲街道", "LZ"), ("泗门镇", "SM")], (30.038, 121.158)),
    "慈溪市": ("330282", [("坎墩街道", "KD"), ("周巷镇", "ZX")], (30.168, 121.268)),
    "宁海县": ("330226", [("前童镇", "QT"), ("西店镇", "XD")], (29.292, 121.428)),
    "象山县": ("330225", [("丹西街道", "DX"), ("石浦镇", "SP")], (29.477, 121.868)),
}
# rows tagged port (container trucks, logistics yards by the port) get a street near 北仑 or 镇海 port
PORT = [("北仑区", "大碶街道"), ("北仑区", "霞浦街道"), ("镇海区", "澥浦镇")]
# rows tagged village (ancestral halls, village temples) get a town, not an urban street
VILLAGE = [("海曙区", "古林镇"), ("江北区", "慈城镇"), ("镇海区", "澥浦镇"), ("鄞州区", "姜山镇"),
           ("奉化区", "莼湖镇"), ("余姚市", "泗门镇"), ("慈溪市", "周巷镇"), ("宁海县", "前童镇"),
           ("宁海县", "西店镇"), ("象山县", "石浦镇")]
# where a text names a place, the district follows the text (no blind21 text does)
PLACE_IN_TEXT = [("宁海", "宁海县"), ("象山", "象山县"), ("慈溪", "慈溪市"), ("余姚", "余姚市")]
COMM = ["槐树", "桂芳", "永丰", "溪南", "杏林", "双桥", "柳汀", "凤岙", "前洋", "竹园", "梅溪", "横泾",
        "樟村", "塘头", "雁苍", "锦溪", "松林", "白杨", "聚贤", "龙潭"]
ROADS = ["解放南路", "药行街", "孝闻街", "大闸路", "开明街", "彩虹北路", "新典路", "鄞县大道", "通途路", "人民路"]
GOOD_HINTS = {
    "E": ["电动车充电", "飞线充电", "消防安全", "EBIKE_CHARGING", "安全隐患"],
    "B": ["消防通道", "安全出口", "消防安全", "BLOCKED_EXIT", "安全隐患"],
    "W": ["私拉电线", "用电安全", "ILLEGAL_WIRING", "安全隐患"],
    "F": ["消防设施", "消防安全", "FIRE_EQUIPMENT_FAILURE", "设施损坏"],
    "T": ["电信诈骗", "反诈", "社会治安", "TELECOM_FRAUD"],
    "-": ["其他", "民生服务", "走访", "日常巡查"],
}
SHORT = {v: k for k, v in CODES.items()}
# tags that fix the day to agree with the text: (first day, last day), both inclusive
# (2033: 春节 31 January, 正月十五 14 February, 清明 4 April; school terms; 119 消防宣传月 November)
DAYS = {
    "winter": ((2033, 1, 3), (2033, 2, 25)),     # 取暖器, 冬天
    "chuyi": ((2033, 1, 31), (2033, 1, 31)),     # 大年初一 烧头香
    "nianqian": ((2033, 1, 10), (2033, 1, 27)),  # 年三十 (30 January) 之前, planning the 年夜饭
    "qingming": ((2033, 4, 1), (2033, 4, 6)),    # 清明祭祖
    "term": ((2033, 3, 1), (2033, 6, 30)),       # 学期中, 学生在校 (canteen lunches)
    "summer": ((2033, 7, 5), (2033, 8, 25)),     # 暑假
    "guoqing": ((2033, 9, 25), (2033, 10, 8)),   # 国庆婚宴旺季
    "xf": ((2033, 11, 1), (2033, 11, 30)),       # "119" 消防宣传
}
DAYTIME = [9, 9, 10, 10, 11, 13, 14, 14, 15, 15, 16]  # "day" tag: banks and offices open
AFTERNOON = [14, 15, 16, 17, 18]  # "pm" tag: "今天上午/下午…" told later the same day
FRAUD_CLASSES = ["sd", "kf", "tz", "dk", "zx", "gw", "gjf", "ld", "yx", "hl", "wh", "jj"]

rows = []
for f in sorted(glob.glob(str(HERE / "src*.txt"))):
    name = Path(f).name
    for n, line in enumerate(open(f, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("|")
        assert len(parts) == 9, (name, n, len(parts), line)
        role, place, hint, hour, dist, codes, sev, tags, text = [p.strip() for p in parts]
        assert role in ROLES, (name, n, role)
        assert place == "" or place in PLACES, (name, n, place)
        assert hour == "" or re.fullmatch(r"\d\d(:\d\d)?", hour), (name, n, hour)
        assert dist == "" or dist in DIST, (name, n, dist)
        cl = [] if codes == "-" else codes.split(",")
        assert all(c in CODES for c in cl) and len(set(cl)) == len(cl), (name, n, codes)
        assert (sev == "-") == (not cl), (name, n)
        assert sev == "-" or sev in SEV, (name, n, sev)
        text = text.replace("\\n", "\n")
        assert 1 <= len(text) <= 2000 and text == text.strip(), (name, n)
        assert not re.search(r"/(work|tmp|home|root|Users)/|[A-Za-z]:\\", text), (name, n)  # no machine path
        tl = [t for t in tags.split(",") if t]
        assert sum(t in DAYS for t in tl) <= 1, (name, n, tags)
        assert ("placex" not in tl) or place, (name, n)
        assert not ({"hintx"} & set(tl)) or hint, (name, n)
        rows.append(dict(role=role, place=place, hint=hint, hour=hour, dist=dist, codes=cl, sev=sev,
                         tags=tl, text=text, src=f"{name}:{n}"))
print("rows", len(rows))
assert len(rows) == N, len(rows)
texts = [r["text"] for r in rows]
assert len(set(texts)) == len(texts), "duplicate text"


# overlap with every earlier set (only this set's texts are printed)
def bigrams(s):
    s = re.sub(r"\s+", "", s)
    return {s[i:i + 2] for i in range(len(s) - 1)}


def jaccard(a, b):
    return len(a & b) / len(a | b) if a and b else 0.0


earlier = []
for f in sorted(HERE.parent.glob("*_reports.jsonl")):
    if f.name == f"{SET}_reports.jsonl":
        continue
    for line in open(f, encoding="utf-8"):
        if line.strip():
            earlier.append((f.name, bigrams(json.loads(line)["text"])))
mine = [bigrams(t) for t in texts]
worst = []
for r, bg in zip(rows, mine):
    best, where = max(((jaccard(bg, e), name) for name, e in earlier), default=(0.0, ""))
    worst.append((best, where, r))
worst.sort(key=lambda x: -x[0])
print(f"overlap: {len(texts)} texts against {len(earlier)} earlier texts; highest {worst[0][0]:.3f}")
for best, where, r in worst:
    if best >= OVERLAP_SHOW:
        print(f"  {best:.3f} {where} {r['src']} {r['text'][:24]}")
print("  top five:", " ".join(f"{b:.3f}({r['src']})" for b, _, r in worst[:5]))
intra = max((jaccard(mine[i], mine[j]), i, j) for i in range(len(mine)) for j in range(i + 1, len(mine)))
print(f"overlap within the set: highest {intra[0]:.3f} ({rows[intra[1]]['src']} / {rows[intra[2]]['src']})")
assert worst[0][0] < OVERLAP_MAX, "near-copy of an earlier text"
assert intra[0] < OVERLAP_MAX, "near-copy within the set"

R.shuffle(rows)
start = datetime(YEAR, 1, 1, tzinfo=CST)  # a Saturday; the set spans 1 January - 31 December 2033 (365 days)
reports, labels = [], []
for i, r in enumerate(rows, 1):
    rid = f"{PREFIX}-{i:03d}"
    tags = r["tags"]
    dist, street = r["dist"], None
    for key, d in PLACE_IN_TEXT:
        if key in r["text"]:
            dist = d
            break
    if not dist and "port" in tags:
        dist, street = R.choice(PORT)
    elif not dist and "village" in tags:
        dist, street = R.choice(VILLAGE)
    dist = dist or R.choice(list(DIST))
    code, streets, (clat, clon) = DIST[dist]
    if street is None:
        street, abbr = R.choice(streets)
    else:
        abbr = dict(streets)[street]
    span = next((DAYS[t] for t in tags if t in DAYS), None)
    if span:
        a = datetime(*span[0], tzinfo=CST)
        b = datetime(*span[1], tzinfo=CST)
        day = a + timedelta(days=R.randrange(0, (b - a).days + 1))
    else:
        day = start + timedelta(days=R.randrange(0, 365))
    if r["hour"]:
        hh = int(r["hour"][:2])
        mm = int(r["hour"][3:]) if ":" in r["hour"] else R.randrange(60)
    elif "day" in tags:
        hh, mm = R.choice(DAYTIME), R.randrange(60)
    elif "pm" in tags:
        hh, mm = R.choice(AFTERNOON), R.randrange(60)
    else:
        hh, mm = R.choice([8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 15, 16, 16, 17, 18, 19, 20]), R.randrange(60)
    ts = day.replace(hour=hh, minute=mm, second=R.randrange(60))
    assert datetime(YEAR, 1, 1, tzinfo=CST) <= ts < datetime(YEAR + 1, 1, 1, tzinfo=CST), ts
    role = ROLES[r["role"]]
    ch = {"grid_worker": "grid_app", "hotline_operator": "hotline_12345", "courier": "courier_app",
          "ride_hailing_driver": "courier_app", "truck_driver": "courier_app"}.get(role)
    if "chat" in tags:  # group messages pasted from WeCom, whoever posts them
        ch = "wecom_group"
    if ch is None:
        ch = {"resident": R.choice(["resident_app"] * 3 + ["wecom_group"]),
              "community_worker": R.choice(["grid_app", "grid_app", "wecom_group"]),
              "volunteer": R.choice(["wecom_group", "grid_app", "resident_app"])}[role]
    rep = {"schema_version": 1, "report_id": rid, "reported_at": ts.isoformat(), "channel": ch,
           "reporter_role": role, "district": dist, "grid_id": f"{code}-{abbr}-{R.randrange(1, 300):03d}",
           "text": r["text"]}
    if R.random() < 0.65:
        rep["street"] = street
    if R.random() < 0.5:
        village = {"village"} & set(tags)
        rep["community"] = R.choice(COMM) + ("村" if village else "社区")
    if R.random() < 0.3:
        rep["address"] = f"{R.choice(ROADS)}{R.randrange(1, 500)}号"
    if r["place"] and ("placex" in tags or R.random() < 0.85):
        rep["place_type"] = PLACES[r["place"]]  # placex rows: deliberately contradicts the text
    if R.random() < 0.6:
        rep["lat"] = round(clat + R.uniform(-0.03, 0.03), 6)
        rep["lon"] = round(clon + R.uniform(-0.03, 0.03), 6)
    if r["hint"]:
        rep["category_hint"] = r["hint"]
    elif R.random() < 0.3:
        key = SHORT[CODES[r["codes"][0]]] if r["codes"] else "-"
        rep["category_hint"] = R.choice(GOOD_HINTS[key])
        tags.append("hint_ok")
    if R.random() < 0.7:
        rep["reporter_id"] = f"g{R.randrange(10**6, 10**7)}"
    if R.random() < 0.3:
        rep["contact_phone"] = f"1380000{R.randrange(10000):04d}"
    line = json.dumps(rep, ensure_ascii=False)
    grid_report_adapter.validate_json(line)
    reports.append(line)
    codes = sorted(CODES[c] for c in r["codes"])
    labels.append(json.dumps({"report_id": rid, "codes": codes, "severity": SEV.get(r["sev"])}, ensure_ascii=False))
    r["id"], r["codes_full"] = rid, codes

if "--write" in sys.argv:
    (HERE.parent / f"{SET}_reports.jsonl").write_text("\n".join(reports) + "\n", encoding="utf-8")
    (HERE.parent / f"{SET}_labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")

# distribution
n = len(rows)
none = sum(1 for r in rows if not r["codes"])
multi = sum(1 for r in rows if len(r["codes"]) > 1)
print(f"n={n} none={none} ({none / n:.1%}) multi={multi} ({multi / n:.1%}) none+multi={none + multi} ({(none + multi) / n:.1%})")
print("codes", Counter(c for r in rows for c in r["codes_full"]))
print("sev", Counter(SEV.get(r["sev"]) for r in rows))
print("ncodes", Counter(len(r["codes"]) for r in rows))
print("combos", Counter("+".join(SHORT[c] for c in r["codes_full"]) for r in rows if len(r["codes"]) > 1))
for c in CODES.values():
    print(c, Counter(SEV[r["sev"]] for r in rows if c in r["codes_full"]))
print("roles", Counter(ROLES[r["role"]] for r in rows))
print("tags", sorted(Counter(t for r in rows for t in r["tags"]).items(), key=lambda x: (-x[1], x[0])))
lens = [len(r["text"]) for r in rows]
print("len min/max/mean/median", min(lens), max(lens), round(sum(lens) / n, 1), sorted(lens)[n // 2])
objs = [json.loads(x) for x in reports]
print("channels", Counter(o["channel"] for o in objs))
print("districts", Counter(o["district"] for o in objs))
print("place", Counter(o.get("place_type", "(absent)") for o in objs))
print("hint given", sum("category_hint" in o for o in objs), "hintx", sum("hintx" in r["tags"] for r in rows))
print("lat", sum("lat" in o for o in objs), "phone", sum("contact_phone" in o for o in objs))
print("dates", min(o["reported_at"] for o in objs), max(o["reported_at"] for o in objs))
print("months", sorted(Counter(o["reported_at"][5:7] for o in objs).items()))
by_id = sorted(rows, key=lambda r: r["id"])
for t in sorted({t for r in rows for t in r["tags"]} - set(FRAUD_CLASSES)):
    print(t, " ".join(r["id"] for r in by_id if t in r["tags"]))
for t in FRAUD_CLASSES:
    print("class", t, " ".join(f'{r["id"]}:{r["sev"]}' for r in by_id
                                if t in r["tags"] and "TELECOM_FRAUD" in r["codes_full"]))
print("combo ids", " ".join(f'{r["id"]}:{"+".join(SHORT[c] for c in r["codes_full"])}:{r["sev"]}'
                            for r in by_id if len(r["codes"]) > 1))
print("critical", " ".join(f'{r["id"]}:{"+".join(SHORT[c] for c in r["codes_full"])}'
                           for r in by_id if r["sev"] == "c"))
print("low", " ".join(f'{r["id"]}:{"+".join(SHORT[c] for c in r["codes_full"])}'
                      for r in by_id if r["sev"] == "l"))
print("hint ids", " ".join(f'{r["id"]}:{r["hint"]}' for r in by_id if "hintx" in r["tags"]))
print("placex ids", " ".join(f'{r["id"]}:{PLACES[r["place"]]}' for r in by_id if "placex" in r["tags"]))
