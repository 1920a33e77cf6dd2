"""Build blind9 from the hand-written sources src*.txt beside this file.

Every text and every label (codes, severity) is written by hand in src*.txt, one row per report:
    role|place|hint|hour|dist|codes|sev|tags|text
Only the metadata (order, ids, district where the text names none, grid id, street, timestamps,
channel, optional fields) is generated here, with a fixed seed. Paths are relative to this file.

    python build.py            # check the sources and print the distribution
    python build.py --write    # also (re)write ../blind9_reports.jsonl and ../blind9_labels.jsonl
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

R = random.Random(20270501)
CST = timezone(timedelta(hours=8))
CODES = dict(E="EBIKE_CHARGING", B="BLOCKED_EXIT", W="ILLEGAL_WIRING", F="FIRE_EQUIPMENT_FAILURE", T="TELECOM_FRAUD")
SEV = dict(l="low", m="medium", h="high", c="critical")
ROLES = dict(gw="grid_worker", cw="community_worker", co="courier", rd="ride_hailing_driver",
             td="truck_driver", re="resident", vo="volunteer", ho="hotline_operator")
PLACES = dict(ren="rental_housing", old="old_residential", nsv="nine_small_venue", hr="high_rise",
              ind="industrial", st="street", oth="other")
DIST = {  # county code, streets (none used by blind6/7/8 where the district has others left), centre
    "海曙区": ("330203", [("江厦街道", "JX"), ("古林镇", "GL"), ("章水镇", "ZS"), ("龙观乡", "LG")], (29.868, 121.545)),
    "江北区": ("330205", [("甬江街道", "YJ"), ("文教街道", "WJ")], (29.902, 121.558)),
    "北仑区": ("330206", [("新碶街道", "XQ"), ("小港街道", "XG")], (29.898, 121.848)),
    "镇海区": ("330211", [("庄市街道", "ZS"), ("蛟川街道", "JC")], (29.952, 121.712)),
    "鄞州区": ("330212", [("塘溪镇", "TX"), ("云龙镇", "YL"), ("瞻岐镇", "ZQ"), ("东吴镇", "DW"), ("横溪镇", "HX"), ("白鹤街道", "BH")], (29.818, 121.558)),
    "奉化区": ("330213", [("方桥街道", "FQ"), ("溪口镇", "XK")], (29.657, 121.408)),
    "余姚市": ("330281", [("临山镇", "LS"), ("牟山镇", "MS"), ("三七市镇", "SQ"), ("河姆渡镇", "HM"), ("丈亭镇", "ZT")], (30.038, 121.158)),
    "慈溪市": ("330282", [("横河镇", "HH"), ("匡堰镇", "KY"), ("长河镇", "CH"), ("胜山镇", "SS"), ("庵东镇", "AD")], (30.168, 121.268)),
    "宁海县": ("330226", [("桑洲镇", "SZ"), ("胡陈乡", "HC"), ("强蛟镇", "QJ"), ("大佳何镇", "DJ")], (29.292, 121.428)),
    "象山县": ("330225", [("鹤浦镇", "HP"), ("晓塘乡", "XT"), ("泗洲头镇", "SZ"), ("高塘岛乡", "GT")], (29.477, 121.868)),
}
# where a text names a place, the district follows the text (street drawn from that district)
PLACE_IN_TEXT = [("宁海", "宁海县"), ("象山", "象山县")]
COMM = ["银杏", "紫薇", "望湖", "双桥", "樟树", "荷花", "凤凰", "金谷", "里河", "芦港", "东渡", "秀水",
        "海湾", "枫林", "龙泉", "竹园", "柳汀", "石门", "麦浪", "云湖"]
ROADS = ["药行街", "县前街", "灵桥路", "沧海路", "宁穿路", "天童南路", "镇明路", "环城北路", "世纪大道", "鄞县大道"]
GOOD_HINTS = {
    "E": ["电动车充电", "飞线充电", "消防安全", "EBIKE_CHARGING", "安全隐患"],
    "B": ["消防通道", "安全出口", "消防安全", "BLOCKED_EXIT", "安全隐患"],
    "W": ["私拉电线", "用电安全", "ILLEGAL_WIRING", "安全隐患"],
    "F": ["消防设施", "消防安全", "FIRE_EQUIPMENT_FAILURE", "设施损坏"],
    "T": ["电信诈骗", "反诈", "社会治安", "TELECOM_FRAUD"],
    "-": ["其他", "民生服务", "走访", "日常巡查"],
}
SHORT = {v: k for k, v in CODES.items()}
# tags that fix the day to agree with the text: (first day, last day), both inclusive, in 2027
DAYS = {
    "child61": ((5, 25), (6, 1)),     # 六一前
    "dwb": ((6, 1), (6, 8)),          # 端午前 (端午 is 9 June 2027)
    "dwd": ((6, 10), (6, 11)),        # "端午龙舟赛那天" (9 June), told a day or two later
    "gkb": ((6, 1), (6, 6)),          # 高考前
    "gkd": ((6, 7), (6, 8)),          # 高考考点巡查
    "gka": ((6, 9), (6, 23)),         # 高考结束后
    "gkz": ((6, 25), (6, 30)),        # 志愿填报
    "618b": ((6, 5), (6, 17)),        # 618前 publicity
    "618a": ((6, 10), (6, 28)),       # an order bought in the 618 sales
    "exam": ((6, 1), (6, 11)),        # 六级 answers sold before the exam
    "graduate": ((6, 15), (6, 30)),   # 刚毕业
    "yangmei": ((6, 10), (6, 30)),    # 杨梅 season
    "plumrain": ((6, 12), (6, 30)),   # 黄梅天
    "f512": ((5, 19), (6, 30)),       # a follow-up to a 12 May report
    "followup": ((6, 1), (6, 30)),
}

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
        assert 1 <= len(text) <= 2000 and text == text.strip(), (name, n)
        rows.append(dict(role=role, place=place, hint=hint, hour=hour, dist=dist, codes=cl, sev=sev,
                         tags=[t for t in tags.split(",") if t], text=text, src=f"{name}:{n}"))
print("rows", len(rows))
assert len(rows) == 220, len(rows)
texts = [r["text"] for r in rows]
assert len(set(texts)) == len(texts), "duplicate text"
R.shuffle(rows)

start = datetime(2027, 5, 1, tzinfo=CST)  # a Saturday; the set spans 1 May - 30 June 2027 (61 days)
reports, labels = [], []
for i, r in enumerate(rows, 1):
    rid = f"b9-{i:03d}"
    dist = r["dist"]
    for key, d in PLACE_IN_TEXT:
        if key in r["text"]:
            dist = d
            break
    dist = dist or R.choice(list(DIST))
    code, streets, (clat, clon) = DIST[dist]
    street, abbr = R.choice(streets)
    tags = r["tags"]
    span = next((DAYS[t] for t in tags if t in DAYS), None)
    if span:
        a = datetime(2027, *span[0], tzinfo=CST)
        b = datetime(2027, *span[1], tzinfo=CST)
        day = a + timedelta(days=R.randrange(0, (b - a).days + 1))
    else:
        day = start + timedelta(days=R.randrange(0, 61))
    if r["hour"]:
        hh = int(r["hour"][:2])
        mm = int(r["hour"][3:]) if ":" in r["hour"] else R.randrange(60)
    else:
        hh, mm = R.choice([8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 15, 16, 16, 17, 18, 19, 20]), R.randrange(60)
    ts = day.replace(hour=hh, minute=mm, second=R.randrange(60))
    role = ROLES[r["role"]]
    ch = {"grid_worker": "grid_app", "hotline_operator": "hotline_12345", "courier": "courier_app",
          "ride_hailing_driver": "courier_app", "truck_driver": "courier_app"}.get(role)
    if ch is None:
        if "chat" in tags:
            ch = "wecom_group"
        else:
            ch = {"resident": R.choice(["resident_app"] * 3 + ["wecom_group"]),
                  "community_worker": R.choice(["grid_app", "grid_app", "wecom_group"]),
                  "volunteer": R.choice(["wecom_group", "grid_app", "resident_app"])}[role]
    rep = {"schema_version": 1, "report_id": rid, "reported_at": ts.isoformat(), "channel": ch,
           "reporter_role": role, "district": dist, "grid_id": f"{code}-{abbr}-{R.randrange(1, 300):03d}",
           "text": r["text"]}
    if R.random() < 0.65:
        rep["street"] = street
    if R.random() < 0.5:
        rep["community"] = R.choice(COMM) + ("村" if "village" in tags else "社区")
    if R.random() < 0.3:
        rep["address"] = f"{R.choice(ROADS)}{R.randrange(1, 500)}号"
    if r["place"] and R.random() < 0.85:
        rep["place_type"] = PLACES[r["place"]]
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
    (HERE.parent / "blind9_reports.jsonl").write_text("\n".join(reports) + "\n", encoding="utf-8")
    (HERE.parent / "blind9_labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")

# distribution
n = len(rows)
none = sum(1 for r in rows if not r["codes"])
multi = sum(1 for r in rows if len(r["codes"]) > 1)
print(f"n={n} none={none} ({none / n:.1%}) multi={multi} ({multi / n:.1%})")
print("codes", Counter(c for r in rows for c in r["codes_full"]))
print("sev", Counter(SEV.get(r["sev"]) for r in rows))
print("ncodes", Counter(len(r["codes"]) for r in rows))
print("combos", Counter("+".join(SHORT[c] for c in r["codes_full"]) for r in rows if len(r["codes"]) > 1))
for c in CODES.values():
    print(c, Counter(SEV[r["sev"]] for r in rows if c in r["codes_full"]))
print("roles", Counter(ROLES[r["role"]] for r in rows))
print("tags", sorted(Counter(t for r in rows for t in r["tags"]).items(), key=lambda x: -x[1]))
lens = [len(r["text"]) for r in rows]
print("len min/max/mean/median", min(lens), max(lens), round(sum(lens) / n, 1), sorted(lens)[n // 2])
objs = [json.loads(x) for x in reports]
print("channels", Counter(o["channel"] for o in objs))
print("districts", Counter(o["district"] for o in objs))
print("place", Counter(o.get("place_type", "(absent)") for o in objs))
print("hint given", sum("category_hint" in o for o in objs), "hintx", sum("hintx" in r["tags"] for r in rows))
print("lat", sum("lat" in o for o in objs), "phone", sum("contact_phone" in o for o in objs))
for t in ["hintx", "fix", "night", "only", "locked", "one_of_two", "prog", "loss", "attempt", "earlier", "followup",
          "pub", "drill", "pile", "otherblock", "verified", "neg", "long", "official", "ticket", "checklist", "abbr",
          "short", "voice", "dia", "trad", "mix", "emoji", "punct", "slang", "forward", "chat", "ecar", "window",
          "judgement"]:
    print(t, " ".join(r["id"] for r in sorted(rows, key=lambda r: r["id"]) if t in r["tags"]))
for t in ["sd", "kf", "tz", "dk", "zx", "gw", "gjf", "ld", "yx", "hl", "wh", "jj"]:
    print("class", t, " ".join(f'{r["id"]}:{r["sev"]}' for r in sorted(rows, key=lambda r: r["id"])
                                if t in r["tags"] and "TELECOM_FRAUD" in r["codes_full"]))
print("combo ids", " ".join(f'{r["id"]}:{"+".join(SHORT[c] for c in r["codes_full"])}:{r["sev"]}'
                            for r in sorted(rows, key=lambda r: r["id"]) if len(r["codes"]) > 1))
print("critical", " ".join(f'{r["id"]}:{"+".join(SHORT[c] for c in r["codes_full"])}'
                           for r in sorted(rows, key=lambda r: r["id"]) if r["sev"] == "c"))
print("hint ids", " ".join(f'{r["id"]}:{r["hint"]}' for r in sorted(rows, key=lambda r: r["id"]) if "hintx" in r["tags"]))
