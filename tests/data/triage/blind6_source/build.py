"""Build blind6 from the hand-written sources src*.txt beside this file (texts + labels by hand).
Only metadata is generated here, with a fixed seed."""
import json, random, re, sys, glob
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))
from schemas.grid_report import grid_report_adapter

R = random.Random(20260517)
CST = timezone(timedelta(hours=8))
CODES = dict(E="EBIKE_CHARGING", B="BLOCKED_EXIT", W="ILLEGAL_WIRING", F="FIRE_EQUIPMENT_FAILURE", T="TELECOM_FRAUD")
SEV = dict(l="low", m="medium", h="high", c="critical")
ROLES = dict(gw="grid_worker", cw="community_worker", co="courier", rd="ride_hailing_driver",
             td="truck_driver", re="resident", vo="volunteer", ho="hotline_operator")
PLACES = dict(ren="rental_housing", old="old_residential", nsv="nine_small_venue", hr="high_rise",
              ind="industrial", st="street", oth="other")
DIST = {  # code, 2-letter street abbreviations, streets, centre
 "海曙区": ("330203", [("鼓楼街道","GL"),("白云街道","BY"),("段塘街道","DT"),("石碶街道","SQ")], (29.875, 121.545)),
 "江北区": ("330205", [("孔浦街道","KP"),("文教街道","WJ"),("甬江街道","YJ"),("庄桥街道","ZQ")], (29.905, 121.555)),
 "北仑区": ("330206", [("新碶街道","XQ"),("大碶街道","DQ"),("霞浦街道","XP"),("小港街道","XG")], (29.900, 121.845)),
 "镇海区": ("330211", [("招宝山街道","ZB"),("蛟川街道","JC"),("骆驼街道","LT"),("庄市街道","ZS")], (29.950, 121.715)),
 "鄞州区": ("330212", [("钟公庙街道","ZG"),("首南街道","SN"),("下应街道","XY"),("姜山镇","JS")], (29.815, 121.555)),
 "奉化区": ("330213", [("岳林街道","YL"),("锦屏街道","JP"),("溪口镇","XK"),("江口街道","JK")], (29.655, 121.410)),
 "余姚市": ("330281", [("梨洲街道","LZ"),("凤山街道","FS"),("阳明街道","YM"),("泗门镇","SM")], (30.040, 121.155)),
 "慈溪市": ("330282", [("浒山街道","HS"),("古塘街道","GT"),("周巷镇","ZX"),("观海卫镇","GH")], (30.170, 121.265)),
 "宁海县": ("330226", [("跃龙街道","YL"),("桃源街道","TY"),("梅林街道","ML"),("西店镇","XD")], (29.290, 121.430)),
 "象山县": ("330225", [("丹东街道","DD"),("丹西街道","DX"),("石浦镇","SP"),("爵溪街道","JX")], (29.475, 121.870)),
}
COMM = ["和顺","长春","翠柏","新河","明南","兴宁","东海","万安","惠风","桂花","南苑","望春","荷花","泰安","双桥","柳汀","江湾","清水","福明","白鹤"]
ROADS = ["新河路","中山西路","环城北路","江东北路","百丈路","解放南路","县前街","人民路","东门路","健康路","开明街","学士路"]
GOOD_HINTS = {
 "E": ["电动车充电","飞线充电","消防安全","EBIKE_CHARGING","安全隐患"],
 "B": ["消防通道","安全出口","消防安全","BLOCKED_EXIT","安全隐患"],
 "W": ["私拉电线","用电安全","ILLEGAL_WIRING","安全隐患"],
 "F": ["消防设施","消防安全","FIRE_EQUIPMENT_FAILURE","设施损坏"],
 "T": ["电信诈骗","反诈","社会治安","TELECOM_FRAUD"],
 "-": ["其他","民生服务","走访","日常巡查"],
}

rows = []
for f in sorted(glob.glob(str(HERE / 'src*.txt'))):
    for n, line in enumerate(open(f, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line.strip() or line.startswith('#'):
            continue
        parts = line.split('|')
        assert len(parts) == 9, (f, n, len(parts), line)
        role, place, hint, hour, dist, codes, sev, tags, text = [p.strip() for p in parts]
        assert role in ROLES, (f, n, role)
        assert place == '' or place in PLACES, (f, n, place)
        assert hour == '' or re.fullmatch(r'\d\d(:\d\d)?', hour), (f, n, hour)
        assert dist == '' or dist in DIST, (f, n, dist)
        cl = [] if codes == '-' else codes.split(',')
        assert all(c in CODES for c in cl), (f, n, codes)
        assert (sev == '-') == (not cl), (f, n)
        assert sev == '-' or sev in SEV
        rows.append(dict(role=role, place=place, hint=hint, hour=hour, dist=dist, codes=cl, sev=sev,
                         tags=[t for t in tags.split(',') if t], text=text, src=f"{f.split('/')[-1]}:{n}"))
print('rows', len(rows))
texts = [r['text'] for r in rows]
assert len(set(texts)) == len(texts), 'duplicate text'
R.shuffle(rows)

start = datetime(2026, 5, 4, tzinfo=CST)
reports, labels = [], []
for i, r in enumerate(rows, 1):
    rid = f"b6-{i:03d}"
    dist = r['dist'] or R.choice(list(DIST))
    code, streets, (clat, clon) = DIST[dist]
    street, abbr = R.choice(streets)
    day = start + timedelta(days=R.randrange(0, 56))
    if r['hour']:
        hh = int(r['hour'][:2]); mm = int(r['hour'][3:]) if ':' in r['hour'] else R.randrange(60)
    else:
        hh = R.choice([8,9,9,10,10,11,13,14,14,15,15,16,16,17,18,19,20]); mm = R.randrange(60)
    ts = day.replace(hour=hh, minute=mm, second=R.randrange(60))
    role = ROLES[r['role']]
    ch = {"grid_worker": "grid_app", "hotline_operator": "hotline_12345", "courier": "courier_app",
          "ride_hailing_driver": "courier_app", "truck_driver": "courier_app"}.get(role)
    if r['text'].startswith('【转发】'):
        ch = 'wecom_group'
    elif ch is None:
        ch = {"resident": R.choice(["resident_app"]*3 + ["wecom_group"]),
              "community_worker": R.choice(["grid_app", "wecom_group"]),
              "volunteer": R.choice(["wecom_group", "grid_app", "resident_app"])}[role]
    rep = {"schema_version": 1, "report_id": rid, "reported_at": ts.isoformat(), "channel": ch,
           "reporter_role": role, "district": dist, "grid_id": f"{code}-{abbr}-{R.randrange(1, 200):03d}",
           "text": r['text']}
    if R.random() < 0.7:
        rep["street"] = street
    if R.random() < 0.55:
        rep["community"] = R.choice(COMM) + "社区"
    if R.random() < 0.3:
        rep["address"] = f"{R.choice(ROADS)}{R.randrange(1, 400)}号"
    if r['place'] and R.random() < 0.85:
        rep["place_type"] = PLACES[r['place']]
    if R.random() < 0.6:
        rep["lat"] = round(clat + R.uniform(-0.03, 0.03), 6)
        rep["lon"] = round(clon + R.uniform(-0.03, 0.03), 6)
    if r['hint']:
        rep["category_hint"] = r['hint']
    elif R.random() < 0.3:
        key = r['codes'][0] if r['codes'] else '-'
        key = {"EBIKE_CHARGING": "E", "BLOCKED_EXIT": "B", "ILLEGAL_WIRING": "W",
               "FIRE_EQUIPMENT_FAILURE": "F", "TELECOM_FRAUD": "T"}.get(CODES.get(key, key), key) if key != '-' else '-'
        rep["category_hint"] = R.choice(GOOD_HINTS[key])
        r['tags'].append('hint_ok')
    if R.random() < 0.7:
        rep["reporter_id"] = f"u{R.randrange(10**6, 10**7)}"
    if R.random() < 0.3:
        rep["contact_phone"] = f"1380000{R.randrange(10000):04d}"
    line = json.dumps(rep, ensure_ascii=False)
    grid_report_adapter.validate_json(line)
    reports.append(line)
    codes = sorted(CODES[c] for c in r['codes'])
    labels.append(json.dumps({"report_id": rid, "codes": codes, "severity": SEV.get(r['sev'])}, ensure_ascii=False))
    r['id'] = rid
    r['codes_full'] = codes

out = str(HERE.parent) + '/'
if '--write' in sys.argv:
    open(out + 'blind6_reports.jsonl', 'w', encoding='utf-8').write('\n'.join(reports) + '\n')
    open(out + 'blind6_labels.jsonl', 'w', encoding='utf-8').write('\n'.join(labels) + '\n')

# stats
n = len(rows)
none = sum(1 for r in rows if not r['codes'])
multi = sum(1 for r in rows if len(r['codes']) > 1)
print(f"n={n} none={none} ({none/n:.1%}) multi={multi} ({multi/n:.1%})")
print('codes', Counter(c for r in rows for c in r['codes_full']))
print('sev', Counter(SEV.get(r['sev']) for r in rows))
print('ncodes', Counter(len(r['codes']) for r in rows))
print('combos', Counter('+'.join(r['codes_full']) for r in rows if len(r['codes']) > 1))
for code in CODES.values():
    print(code, Counter(SEV[r['sev']] for r in rows if code in r['codes_full']))
print('roles', Counter(ROLES[r['role']] for r in rows))
print('tags', sorted(Counter(t for r in rows for t in r['tags']).items(), key=lambda x: -x[1]))
lens = [len(r['text']) for r in rows]
print('len min/max/mean', min(lens), max(lens), sum(lens)/n)
rep_objs = [json.loads(l) for l in reports]
print('channels', Counter(o['channel'] for o in rep_objs))
print('districts', Counter(o['district'] for o in rep_objs))
print('place', Counter(o.get('place_type', '(absent)') for o in rep_objs))
print('hint given', sum('category_hint' in o for o in rep_objs), 'hintx', sum('hintx' in r['tags'] for r in rows))
print('lat', sum('lat' in o for o in rep_objs), 'phone', sum('contact_phone' in o for o in rep_objs))
