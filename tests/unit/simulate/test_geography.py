from schemas.grid_report import DISTRICTS
from streams.simulate.geography import load_geography


def test_ten_districts_as_the_contract_names_them():
    geo = load_geography()
    assert tuple(d.name for d in geo.districts) == DISTRICTS or set(
        d.name for d in geo.districts
    ) == set(DISTRICTS)


def test_grid_ids_unique_and_in_the_districts_code():
    geo = load_geography()
    ids = [g.grid_id for d in geo.districts for g in d.grids]
    assert len(ids) == len(set(ids)) > 3000
    for district in geo.districts:
        assert all(g.grid_id.startswith(district.code + "-") for g in district.grids)
        assert all(g.district == district.name for g in district.grids)


def test_hierarchy_street_community_grid():
    geo = load_geography()
    street = geo.district("鄞州区").streets[0]
    assert street.name == "首南街道"
    assert all(g.street == street.name for g in street.grids)
    assert all(g.community.endswith(("社区", "村")) for g in street.grids)
    towns = [s for d in geo.districts for s in d.streets if s.name.endswith("镇")]
    assert any(g.community.endswith("村") for s in towns for g in s.grids)


def test_same_geography_every_time():
    first = load_geography()
    load_geography.cache_clear()
    assert load_geography() == first


def test_coordinates_inside_ningbo():
    for d in load_geography().districts:
        for g in d.grids:
            assert 28.8 < g.lat < 30.5 and 120.8 < g.lon < 122.5
