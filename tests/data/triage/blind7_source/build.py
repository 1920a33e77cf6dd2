"""Build blind7 from the hand-written sources src*.txt beside this file.

Every text and every label (codes, severity) is written by hand in src*.txt, one row per report:
    role|place|hint|hour|dist|codes|sev|tags|text
Only the metadata (order, ids, district where the text names none, grid id, street, timestamps,
channel, optional fields) is generated here, with a fixed seed. Paths are relative to this file.

    python build.py            # check the sources and print the distribution
    python build.py --write    # also (re)write ../blind7_reports.jsonl and ../blind7_labels.jsonl
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

R = random.Random(20261108)
CST = timezone(timedelta(hours=8))
CODES = dict(E="EBIKE_CHARGING", B="BLOCKED_EXIT", W="ILLEGAL_WIRING", F="FIRE_EQUIPMENT_FAILURE", T="TELECOM_FRAUD")
SEV = dict(l="low", m="medium", h="high", c="critical")
ROLES = dict(gw="grid_worker", cw="community_worker", co="courier", rd="ride_hailing_driver",
             td="truck_driver", re="resident", vo="volunteer", ho="hotline_operator")
PLACES = dict(ren="rental_housing", old="old_residential", nsv="nine_small_venue", hr="high_rise",
              ind="industrial", st="street", oth="other")
DIST = {  # county code, streets with 2-letter abbreviations, centre
    "海曙区": ("330203", [("南门街道", "NM"), ("望春街道", "WC"), ("集士港镇", "JS"), ("西门街道", "XM")], (29.870, 121.540)),
    "江北区": ("330205", [("白沙街道", "BS"), ("慈城镇", "CC"), ("洪塘街道", "HT"), ("前江街道", "QJ")], (29.905, 121.555)),
    "北仑区": ("330206", [("柴桥街道", "CQ"), ("戚家山街道", "QJ"), ("白峰街道", "BF"), ("春晓街道", "CX")], (29.900, 121.845)),
    "镇海区": ("330211", [("贵驷街道", "GS"), ("澥浦镇", "XP"), ("九龙湖镇", "JL"), ("招宝山街道", "ZB")], (29.950, 121.715)),
    "鄞州区": ("330212", [("东柳街道", "DL"), ("百丈街道", "BZ"), ("潘火街道", "PH"), ("东钱湖镇", "DQ")], (29.815, 121.555)),
    "奉化区": ("330213", [("锦屏街道", "JP"), ("萧王庙街道", "XW"), ("西坞街道", "XI"), ("尚田街道", "ST")], (29.655, 121.410)),
    "余姚市": ("330281", [("兰江街道", "LJ"), ("朗霞街道", "LX"), ("马渚镇", "MZ"), ("低塘街道", "DT")], (30.040, 121.155)),
    "慈溪市": ("330282", [("坎墩街道", "KD"), ("宗汉街道", "ZH"), ("白沙路街道", "BL"), ("逍林镇", "XL")], (30.170, 121.265)),
    "宁海县": ("330226", [("桥头胡街道", "QT"), ("长街镇", "CJ"), ("力洋镇", "LY"), ("前童镇", "QN")], (29.290, 121.430)),
    "象山县": ("330225", [("西周镇", "XZ"), ("贤庠镇", "XX"), ("新桥镇", "XQ"), ("定塘镇", "DT")], (29.475, 121.870)),
}
# where a text names a place, the district (and street) follow the text
PLACE_IN_TEXT = [("望春桥", "海曙区", "望春街道"), ("錦屏街道", "奉化区", "锦屏街道"), ("象山", "象山县", None)]
COMM = ["明南", "丽园", "紫鹃", "华严", "天水", "贺丞", "樱花", "新星", "芦港", "孔浦", "黄鹂", "宝庆",
        "七塔", "白杨", "潘家", "甬港", "镇明", "迎凤", "彩虹", "洞桥"]
ROADS = ["药行街", "灵桥路", "柳汀街", "宁穿路", "世纪大道", "桑田路", "天童南路", "兴宁路", "聚贤路", "长兴路"]
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

start = datetime(2026, 11, 2, tzinfo=CST)  # a Monday; the set spans 8 weeks
reports, labels = [], []
for i, r in enumerate(rows, 1):
    rid = f"b7-{i:03d}"
    dist, fixed_street = r["dist"], None
    for key, d, s in PLACE_IN_TEXT:
        if key in r["text"]:
            dist, fixed_street = d, s
            break
    dist = dist or R.choice(list(DIST))
    code, streets, (clat, clon) = DIST[dist]
    street, abbr = R.choice(streets)
    if fixed_street:
        street, abbr = next(s for s in streets if s[0] == fixed_street)
    # the day agrees with the text: church services on Sundays, school days on weekdays,
    # a monthly report in the first days of the next month
    if "monthly" in r["tags"] or "11月维保月报" in r["text"]:
        day = datetime(2026, 12, 1, tzinfo=CST) + timedelta(days=R.randrange(0, 4))
    elif "church" in r["tags"] and "礼拜" in r["text"]:
        day = start + timedelta(days=6 + 7 * R.randrange(0, 8))
    elif "school" in r["tags"]:
        day = start + timedelta(days=7 * R.randrange(0, 8) + R.randrange(0, 5))
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
    if r["text"].startswith("【群聊截图转文字】"):
        ch = "wecom_group"
    elif ch is None:
        ch = {"resident": R.choice(["resident_app"] * 3 + ["wecom_group"]),
              "community_worker": R.choice(["grid_app", "wecom_group"]),
              "volunteer": R.choice(["wecom_group", "grid_app", "resident_app"])}[role]
    rep = {"schema_version": 1, "report_id": rid, "reported_at": ts.isoformat(), "channel": ch,
           "reporter_role": role, "district": dist, "grid_id": f"{code}-{abbr}-{R.randrange(1, 300):03d}",
           "text": r["text"]}
    if fixed_street or R.random() < 0.65:
        rep["street"] = street
    if R.random() < 0.5:
        rep["community"] = R.choice(COMM) + "社区"
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
        r["tags"].append("hint_ok")
    if R.random() < 0.7:
        rep["reporter_id"] = f"w{R.randrange(10**6, 10**7)}"
    if R.random() < 0.3:
        rep["contact_phone"] = f"1380000{R.randrange(10000):04d}"
    line = json.dumps(rep, ensure_ascii=False)
    grid_report_adapter.validate_json(line)
    reports.append(line)
    codes = sorted(CODES[c] for c in r["codes"])
    labels.append(json.dumps({"report_id": rid, "codes": codes, "severity": SEV.get(r["sev"])}, ensure_ascii=False))
    r["id"], r["codes_full"] = rid, codes

if "--write" in sys.argv:
    (HERE.parent / "blind7_reports.jsonl").write_text("\n".join(reports) + "\n", encoding="utf-8")
    (HERE.parent / "blind7_labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")

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
for t in ["hintx", "fix", "night", "prog", "loss", "attempt", "long", "short", "voice", "dia", "trad", "typo", "mix", "chat"]:
    print(t, " ".join(r["id"] for r in sorted(rows, key=lambda r: r["id"]) if t in r["tags"]))
