"""Build blind8 from the hand-written sources src*.txt beside this file.

Every text and every label (codes, severity) is written by hand in src*.txt, one row per report:
    role|place|hint|hour|dist|codes|sev|tags|text
Only the metadata (order, ids, district where the text names none, grid id, street, timestamps,
channel, optional fields) is generated here, with a fixed seed. Paths are relative to this file.

    python build.py            # check the sources and print the distribution
    python build.py --write    # also (re)write ../blind8_reports.jsonl and ../blind8_labels.jsonl
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

R = random.Random(20270301)
CST = timezone(timedelta(hours=8))
CODES = dict(E="EBIKE_CHARGING", B="BLOCKED_EXIT", W="ILLEGAL_WIRING", F="FIRE_EQUIPMENT_FAILURE", T="TELECOM_FRAUD")
SEV = dict(l="low", m="medium", h="high", c="critical")
ROLES = dict(gw="grid_worker", cw="community_worker", co="courier", rd="ride_hailing_driver",
             td="truck_driver", re="resident", vo="volunteer", ho="hotline_operator")
PLACES = dict(ren="rental_housing", old="old_residential", nsv="nine_small_venue", hr="high_rise",
              ind="industrial", st="street", oth="other")
DIST = {  # county code, streets (not the ones blind6/blind7 used where the district allows), centre
    "海曙区": ("330203", [("月湖街道", "YH"), ("高桥镇", "GQ"), ("横街镇", "HJ"), ("鄞江镇", "YJ")], (29.870, 121.540)),
    "江北区": ("330205", [("中马街道", "ZM"), ("外滩街道", "WT")], (29.900, 121.560)),
    "北仑区": ("330206", [("梅山街道", "MS"), ("大榭街道", "DX")], (29.895, 121.850)),
    "镇海区": ("330211", [("九龙湖镇", "JL"), ("骆驼街道", "LT")], (29.955, 121.700)),
    "鄞州区": ("330212", [("中河街道", "ZH"), ("福明街道", "FM"), ("明楼街道", "ML"), ("五乡镇", "WX"), ("咸祥镇", "XX")], (29.820, 121.560)),
    "奉化区": ("330213", [("莼湖街道", "CH"), ("裘村镇", "QC"), ("大堰镇", "DY"), ("松岙镇", "SA")], (29.655, 121.410)),
    "余姚市": ("330281", [("陆埠镇", "LB"), ("梁弄镇", "LN"), ("大岚镇", "DL"), ("四明山镇", "SM")], (30.035, 121.160)),
    "慈溪市": ("330282", [("龙山镇", "LS"), ("掌起镇", "ZQ"), ("附海镇", "FH"), ("新浦镇", "XP"), ("桥头镇", "QT")], (30.170, 121.265)),
    "宁海县": ("330226", [("深甽镇", "SZ"), ("岔路镇", "CL"), ("一市镇", "YS"), ("茶院乡", "CY")], (29.290, 121.430)),
    "象山县": ("330225", [("墙头镇", "QT"), ("黄避岙乡", "HB"), ("大徐镇", "DX"), ("涂茨镇", "TC")], (29.475, 121.870)),
}
# where a text names a place, the district follows the text (street drawn from that district)
PLACE_IN_TEXT = [("和义路", "海曙区"), ("姜山", "鄞州区"), ("鄞州", "鄞州区")]
COMM = ["桂花", "青林", "新芝", "南苑", "春华", "东胜", "安丰", "嘉和", "翠柏", "松下", "永丰", "后塘",
        "清风", "仓基", "北斗", "河头", "塘湾", "桃江", "滨海", "梅园"]
ROADS = ["中山西路", "开明街", "解放南路", "百丈路", "江东北路", "人民路", "甬江大道", "四明中路", "通途路", "福明路"]
GOOD_HINTS = {
    "E": ["电动车充电", "飞线充电", "消防安全", "EBIKE_CHARGING", "安全隐患"],
    "B": ["消防通道", "安全出口", "消防安全", "BLOCKED_EXIT", "安全隐患"],
    "W": ["私拉电线", "用电安全", "ILLEGAL_WIRING", "安全隐患"],
    "F": ["消防设施", "消防安全", "FIRE_EQUIPMENT_FAILURE", "设施损坏"],
    "T": ["电信诈骗", "反诈", "社会治安", "TELECOM_FRAUD"],
    "-": ["其他", "民生服务", "走访", "日常巡查"],
}
SHORT = {v: k for k, v in CODES.items()}

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

start = datetime(2027, 3, 1, tzinfo=CST)  # a Monday; the set spans 8 weeks (spring: tea season, 清明, 4·15)
reports, labels = [], []
for i, r in enumerate(rows, 1):
    rid = f"b8-{i:03d}"
    dist = r["dist"]
    for key, d in PLACE_IN_TEXT:
        if key in r["text"]:
            dist = d
            break
    dist = dist or R.choice(list(DIST))
    code, streets, (clat, clon) = DIST[dist]
    street, abbr = R.choice(streets)
    # the day agrees with the text
    tags = r["tags"]
    if "d415" in tags:  # 4·15 national security education day
        day = datetime(2027, 4, 15, tzinfo=CST)
    elif "qm" in tags:  # before 清明 (5 Apr 2027)
        day = datetime(2027, 3, 25, tzinfo=CST) + timedelta(days=R.randrange(0, 10))
    elif "followup" in tags:  # follow-ups refer back to March reports
        day = datetime(2027, 4, 1, tzinfo=CST) + timedelta(days=R.randrange(0, 25))
    elif "sat" in tags:
        day = start + timedelta(days=5 + 7 * R.randrange(0, 8))
    elif "thu" in tags:
        day = start + timedelta(days=3 + 7 * R.randrange(0, 8))
    elif "tue3" in tags:  # a Tuesday in March
        day = start + timedelta(days=1 + 7 * R.randrange(0, 5))
    elif "w13" in tags:  # ISO week 13: 29 Mar - 4 Apr 2027
        day = datetime(2027, 4, 2, tzinfo=CST) + timedelta(days=R.randrange(0, 3))
    else:
        day = start + timedelta(days=R.randrange(0, 56))
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
        rep["reporter_id"] = f"u{R.randrange(10**6, 10**7)}"
    if R.random() < 0.3:
        rep["contact_phone"] = f"1380000{R.randrange(10000):04d}"
    line = json.dumps(rep, ensure_ascii=False)
    grid_report_adapter.validate_json(line)
    reports.append(line)
    codes = sorted(CODES[c] for c in r["codes"])
    labels.append(json.dumps({"report_id": rid, "codes": codes, "severity": SEV.get(r["sev"])}, ensure_ascii=False))
    r["id"], r["codes_full"] = rid, codes

if "--write" in sys.argv:
    (HERE.parent / "blind8_reports.jsonl").write_text("\n".join(reports) + "\n", encoding="utf-8")
    (HERE.parent / "blind8_labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")

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
for t in ["hintx", "fix", "night", "only", "locked", "prog", "loss", "attempt", "earlier", "followup", "pub", "drill",
          "pile", "otherblock", "verified", "neg", "long", "buried", "official", "abbr", "short", "voice", "dia",
          "trad", "mix", "punct", "units", "ecar", "window", "judgement"]:
    print(t, " ".join(r["id"] for r in sorted(rows, key=lambda r: r["id"]) if t in r["tags"]))
for t in ["sd", "kf", "tz", "dk", "zx", "gw", "gjf", "ld", "yx", "hl", "wh", "jj"]:
    print("class", t, " ".join(f'{r["id"]}:{r["sev"]}' for r in sorted(rows, key=lambda r: r["id"])
                                if t in r["tags"] and "TELECOM_FRAUD" in r["codes_full"]))
