"""Build blind13 from the hand-written sources src*.txt beside this file.

Every text and every label (codes, severity) is written by hand in src*.txt, one row per report:
    role|place|hint|hour|dist|codes|sev|tags|text
Only the metadata (order, ids, district where the text names none, grid id, street, timestamps,
channel, optional fields) is generated here, with a fixed seed. Paths are relative to this file.

    python build.py            # check the sources and print the distribution
    python build.py --write    # also (re)write ../blind13_reports.jsonl and ../blind13_labels.jsonl
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

R = random.Random(20280301)
CST = timezone(timedelta(hours=8))
CODES = dict(E="EBIKE_CHARGING", B="BLOCKED_EXIT", W="ILLEGAL_WIRING", F="FIRE_EQUIPMENT_FAILURE", T="TELECOM_FRAUD")
SEV = dict(l="low", m="medium", h="high", c="critical")
ROLES = dict(gw="grid_worker", cw="community_worker", co="courier", rd="ride_hailing_driver",
             td="truck_driver", re="resident", vo="volunteer", ho="hotline_operator")
PLACES = dict(ren="rental_housing", old="old_residential", nsv="nine_small_venue", hr="high_rise",
              ind="industrial", st="street", oth="other")
DIST = {  # county code, streets (all used by some earlier set, none by blind12), centre
    "海曙区": ("330203", [("段塘街道", "DT"), ("古林镇", "GL")], (29.868, 121.545)),
    "江北区": ("330205", [("庄桥街道", "ZQ"), ("前江街道", "QJ")], (29.902, 121.558)),
    "北仑区": ("330206", [("小港街道", "XG"), ("柴桥街道", "CQ")], (29.898, 121.848)),
    "镇海区": ("330211", [("澥浦镇", "XP"), ("庄市街道", "ZS")], (29.952, 121.712)),
    "鄞州区": ("330212", [("下应街道", "XY"), ("姜山镇", "JS")], (29.818, 121.558)),
    "奉化区": ("330213", [("江口街道", "JK"), ("尚田街道", "ST")], (29.657, 121.408)),
    "余姚市": ("330281", [("朗霞街道", "LX"), ("河姆渡镇", "HM")], (30.038, 121.158)),
    "慈溪市": ("330282", [("宗汉街道", "ZH"), ("掌起镇", "ZQ")], (30.168, 121.268)),
    "宁海县": ("330226", [("桃源街道", "TY"), ("前童镇", "QT")], (29.292, 121.428)),
    "象山县": ("330225", [("丹东街道", "DD"), ("定塘镇", "DT")], (29.477, 121.868)),
}
# where a text names a place, the district follows the text (street drawn from that district)
PLACE_IN_TEXT = [("宁海", "宁海县"), ("象山", "象山县"), ("慈溪", "慈溪市"), ("余姚", "余姚市")]
COMM = ["春晖", "杏花", "梨园", "新绿", "燕归", "海棠", "紫藤", "樱园", "青禾", "麦浪", "蔷薇", "春江",
        "谷雨", "惊蛰", "栀子", "芳草", "柳絮", "茶香", "春笋", "晴川"]
ROADS = ["宁南南路", "兴宁路", "福明路", "聚贤路", "学士路", "长兴路", "鄞州大道", "新晖路", "明州路", "药行街"]
GOOD_HINTS = {
    "E": ["电动车充电", "飞线充电", "消防安全", "EBIKE_CHARGING", "安全隐患"],
    "B": ["消防通道", "安全出口", "消防安全", "BLOCKED_EXIT", "安全隐患"],
    "W": ["私拉电线", "用电安全", "ILLEGAL_WIRING", "安全隐患"],
    "F": ["消防设施", "消防安全", "FIRE_EQUIPMENT_FAILURE", "设施损坏"],
    "T": ["电信诈骗", "反诈", "社会治安", "TELECOM_FRAUD"],
    "-": ["其他", "民生服务", "走访", "日常巡查"],
}
SHORT = {v: k for k, v in CODES.items()}
# tags that fix the day to agree with the text: (first day, last day), both inclusive, in 2028
DAYS = {
    "return": ((3, 1), (3, 20)),    # tenants and workers back after the spring festival
    "mar": ((3, 1), (3, 3)),        # a kindergarten's check at the start of the spring term
    "lei": ((3, 5), (3, 5)),        # 学雷锋日
    "women": ((3, 8), (3, 8)),      # 三八节
    "wk2": ((3, 10), (3, 13)),      # "3月第二周小结" (6-12 March 2028)
    "arbor": ((3, 12), (3, 12)),    # 植树节
    "c315": ((3, 15), (3, 15)),     # 3·15 consumer day
    "preqm": ((3, 28), (4, 3)),     # before 清明 (Tuesday 4 April 2028)
    "qm": ((3, 30), (4, 10)),       # "清明前后"
    "apr": ((4, 1), (4, 30)),       # follow-ups of March findings, 明前茶 / 春茶, kites, 香樟 leaves, March wages
    "aprlog": ((4, 26), (4, 30)),   # "4月巡查日志"
    "may1": ((5, 1), (5, 5)),       # 五一 holiday
    "may": ((5, 1), (5, 31)),       # "天热了"
    "mday": ((5, 14), (5, 14)),     # 母亲节 (second Sunday of May 2028)
    "latemay": ((5, 18), (5, 31)),  # rain before 梅雨 (入梅 is usually mid-June)
}
DAYTIME = [9, 9, 10, 10, 11, 13, 14, 14, 15, 15, 16]  # "day" tag: banks, schools, offices open
AFTERNOON = [13, 14, 15, 16, 17]  # "pm" tag: "今天上午…" told later the same day

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

start = datetime(2028, 3, 1, tzinfo=CST)  # a Wednesday; the set spans 1 March - 31 May 2028 (92 days)
reports, labels = [], []
for i, r in enumerate(rows, 1):
    rid = f"b13-{i:03d}"
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
        a = datetime(2028, *span[0], tzinfo=CST)
        b = datetime(2028, *span[1], tzinfo=CST)
        day = a + timedelta(days=R.randrange(0, (b - a).days + 1))
    else:
        day = start + timedelta(days=R.randrange(0, 92))
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
    (HERE.parent / "blind13_reports.jsonl").write_text("\n".join(reports) + "\n", encoding="utf-8")
    (HERE.parent / "blind13_labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")

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
by_id = sorted(rows, key=lambda r: r["id"])
for t in sorted({t for r in rows for t in r["tags"]} - {"sd", "kf", "tz", "dk", "zx", "gw", "gjf", "ld", "yx", "hl", "wh", "jj"}):
    print(t, " ".join(r["id"] for r in by_id if t in r["tags"]))
for t in ["sd", "kf", "tz", "dk", "zx", "gw", "gjf", "ld", "yx", "hl", "wh", "jj"]:
    print("class", t, " ".join(f'{r["id"]}:{r["sev"]}' for r in by_id
                                if t in r["tags"] and "TELECOM_FRAUD" in r["codes_full"]))
print("combo ids", " ".join(f'{r["id"]}:{"+".join(SHORT[c] for c in r["codes_full"])}:{r["sev"]}'
                            for r in by_id if len(r["codes"]) > 1))
print("critical", " ".join(f'{r["id"]}:{"+".join(SHORT[c] for c in r["codes_full"])}'
                           for r in by_id if r["sev"] == "c"))
print("hint ids", " ".join(f'{r["id"]}:{r["hint"]}' for r in by_id if "hintx" in r["tags"]))
print("placex ids", " ".join(f'{r["id"]}:{PLACES[r["place"]]}' for r in by_id if "placex" in r["tags"]))
