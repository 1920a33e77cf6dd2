"""Build blind15 from the hand-written sources src*.txt beside this file.

Every text and every label (codes, severity) is written by hand in src*.txt, one row per report:
    role|place|hint|hour|dist|codes|sev|tags|text
Only the metadata (order, ids, district where the text names none, grid id, street, timestamps,
channel, optional fields) is generated here, with a fixed seed. Paths are relative to this file.

    python build.py            # check the sources and print the distribution
    python build.py --write    # also (re)write ../blind15_reports.jsonl and ../blind15_labels.jsonl
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

R = random.Random(20280901)
CST = timezone(timedelta(hours=8))
CODES = dict(E="EBIKE_CHARGING", B="BLOCKED_EXIT", W="ILLEGAL_WIRING", F="FIRE_EQUIPMENT_FAILURE", T="TELECOM_FRAUD")
SEV = dict(l="low", m="medium", h="high", c="critical")
ROLES = dict(gw="grid_worker", cw="community_worker", co="courier", rd="ride_hailing_driver",
             td="truck_driver", re="resident", vo="volunteer", ho="hotline_operator")
PLACES = dict(ren="rental_housing", old="old_residential", nsv="nine_small_venue", hr="high_rise",
              ind="industrial", st="street", oth="other")
DIST = {  # county code, streets (none used by the previous set), centre
    "海曙区": ("330203", [("古林镇", "GL"), ("高桥镇", "GQ")], (29.868, 121.545)),
    "江北区": ("330205", [("庄桥街道", "ZQ"), ("洪塘街道", "HT")], (29.902, 121.558)),
    "北仑区": ("330206", [("春晓街道", "CX"), ("梅山街道", "MS")], (29.898, 121.848)),
    "镇海区": ("330211", [("庄市街道", "ZS"), ("九龙湖镇", "JL")], (29.952, 121.712)),
    "鄞州区": ("330212", [("姜山镇", "JS"), ("东吴镇", "DW")], (29.818, 121.558)),
    "奉化区": ("330213", [("溪口镇", "XK"), ("萧王庙街道", "XW")], (29.657, 121.408)),
    "余姚市": ("330281", [("梁弄镇", "LN"), ("马渚镇", "MZ")], (30.038, 121.158)),
    "慈溪市": ("330282", [("观海卫镇", "GH"), ("龙山镇", "LS")], (30.168, 121.268)),
    "宁海县": ("330226", [("桃源街道", "TY"), ("长街镇", "CJ")], (29.292, 121.428)),
    "象山县": ("330225", [("丹西街道", "DX"), ("西周镇", "XZ")], (29.477, 121.868)),
}
# where a text names a place, the district follows the text (street drawn from that district)
PLACE_IN_TEXT = [("宁海", "宁海县"), ("象山", "象山县"), ("慈溪", "慈溪市"), ("余姚", "余姚市")]
COMM = ["桂香", "金桂", "秋实", "丰收", "稻香", "白露", "秋分", "寒露", "霜降", "月华", "望月", "团圆",
        "枫林", "银杏", "菊园", "丹桂", "新谷", "稻田", "晚晴", "秋水"]
ROADS = ["解放南路", "药行街", "人民路", "灵桥路", "鄞县大道", "惊驾路", "长春路", "桑田路", "中兴路", "兴宁路"]
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
    "kx": ((9, 1), (9, 8)),         # 开学 / 开学第一周 (Friday 1 September 2028)
    "kx2": ((9, 11), (9, 15)),      # "开学第二周"
    "typhoon": ((9, 1), (9, 25)),   # the tail of the typhoon season
    "sep": ((9, 1), (9, 25)),       # "十月份开始" told in September
    "sep3": ((9, 22), (9, 24)),     # "9月第三周工作小结" (week of 18-22 September)
    "sepfollow": ((9, 20), (10, 15)),  # "9月初那户…今天复查"
    "seplog": ((9, 28), (9, 30)),   # "9月巡查日志"
    "gh": ((9, 20), (10, 20)),      # 桂花 in flower
    "gqpre": ((9, 22), (9, 30)),    # "国庆前", "国庆想…", "国庆要回来"
    "zqpre": ((9, 20), (10, 2)),    # before 中秋 (Tuesday 3 October 2028), 月饼
    "zqnight": ((10, 3), (10, 3)),  # "中秋夜…赏月晚会"
    "harvest": ((9, 25), (10, 31)), # 秋收, 晚稻, 晒谷
    "gq": ((10, 1), (10, 7)),       # 国庆长假
    "postgq": ((10, 8), (10, 20)),  # "国庆寄的…今天"
    "oct": ((10, 1), (10, 31)),     # "上个月", "都十月了", 秋季消防安全月
    "cy2": ((10, 16), (10, 20)),    # "周六去领重阳节慰问品" (Saturday 21 October; 重阳 on Thursday 26 October 2028)
    "cy": ((10, 16), (10, 25)),     # "重阳节前"
    "s11": ((10, 20), (10, 31)),    # 双十一 pre-sales
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
assert len(rows) == 200, len(rows)
texts = [r["text"] for r in rows]
assert len(set(texts)) == len(texts), "duplicate text"
R.shuffle(rows)

start = datetime(2028, 9, 1, tzinfo=CST)  # a Friday; the set spans 1 September - 31 October 2028 (61 days)
reports, labels = [], []
for i, r in enumerate(rows, 1):
    rid = f"b15-{i:03d}"
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
        day = start + timedelta(days=R.randrange(0, 61))
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
    (HERE.parent / "blind15_reports.jsonl").write_text("\n".join(reports) + "\n", encoding="utf-8")
    (HERE.parent / "blind15_labels.jsonl").write_text("\n".join(labels) + "\n", encoding="utf-8")

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
