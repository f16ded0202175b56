import pytest

from chalicelib.imports import tree_plan
from chalicelib.imports.unit_model import Feature


def unit(ref, parent=None, row=1):
    return Feature(
        layer="level-1-X", row=row, depth=1, type_name="X", ref=ref, name=ref.upper(), parent_ref=parent
    )


def test_parents_come_before_children_whatever_the_file_order():
    plan = tree_plan.check([unit("c", "b"), unit("b", "a"), unit("a")], {})
    assert plan.problems == []
    assert [f.ref for f in plan.ordered] == ["a", "b", "c"]


def test_duplicate_refs_unknown_parents_and_their_descendants_are_reported():
    features = [
        unit("a"),
        unit("a", row=2),
        unit("b", "ghost", row=3),
        unit("c", "b", row=4),
        unit("d", "a", row=5),
    ]
    plan = tree_plan.check(features, {})
    assert [f.ref for f in plan.ordered] == ["a", "d"]
    assert [(p.row, p.message) for p in plan.errors] == [
        (2, "'a' is also on level-1-X row 1"),
        (3, "names no unit 'ghost' in the file or in the version"),
        (4, "its parent was rejected"),
    ]


def test_cycles_are_reported_on_every_member():
    plan = tree_plan.check([unit("a", "c"), unit("b", "a"), unit("c", "b"), unit("d", "c"), unit("e")], {})
    assert [f.ref for f in plan.ordered] == ["e"]
    messages = {p.row and p.message for p in plan.errors}
    assert any("cycle of parents: a -> c -> b -> a" in m for m in messages)
    assert len(plan.errors) == 4


def test_parents_may_already_be_in_the_version_and_paths_follow():
    existing = {"root": tree_plan.Existing(id=7, path="/7/", depth=0)}
    plan = tree_plan.check([unit("child", "root"), unit("leaf", "child")], existing)
    assert [f.ref for f in plan.ordered] == ["child", "leaf"]
    placed = tree_plan.paths(plan.ordered, {"child": 20, "leaf": 21}, existing)
    assert placed["child"] == ("/7/20/", 1) and placed["leaf"] == ("/7/20/21/", 2)


def test_children_of_rows_the_reader_rejected_say_so():
    plan = tree_plan.check([unit("b", "bad")], {}, rejected=frozenset({"bad"}))
    assert plan.errors[0].message == "its parent 'bad' was rejected"


def test_a_deep_tree_needs_no_recursion():
    chain = [unit("n0")] + [unit(f"n{i}", f"n{i - 1}") for i in range(1, 5000)]
    plan = tree_plan.check(reversed(chain), {})
    assert len(plan.ordered) == 5000 and plan.ordered[0].ref == "n0"
    placed = tree_plan.paths(plan.ordered, {f.ref: i + 1 for i, f in enumerate(chain)}, {})
    assert placed["n4999"][1] == 4999


def test_a_cycle_through_units_already_in_the_version_is_caught():
    # In the version B sits under A; the file moves A under B
    existing = {
        "A": tree_plan.Existing(id=1, path="/1/", depth=0),
        "B": tree_plan.Existing(id=2, path="/1/2/", depth=1, parent_ref="A"),
    }
    plan = tree_plan.check([unit("A", "B")], existing)
    assert plan.ordered == [] and "cycle of parents" in plan.errors[0].message


def placed_by_streaming(features, rejected=frozenset()):
    placer = tree_plan.Placer(range(100, 100_000), [])
    placed = [unit for feature in features for unit in placer.add(feature)]
    placer.finish(rejected)
    return placer, placed


def test_streaming_places_each_unit_once_its_parent_is_placed():
    placer, placed = placed_by_streaming([unit("c", "b"), unit("b", "a"), unit("a"), unit("d", "a")])
    assert placer.problems == [] and placer.count == 4
    assert [(u.feature.ref, u.id) for u in placed] == [("a", 100), ("b", 101), ("c", 102), ("d", 103)]
    paths = {u.feature.ref: (u.parent_id, u.path, u.depth) for u in placed}
    assert paths == {
        "a": (None, "/100/", 0),
        "b": (100, "/100/101/", 1),
        "c": (101, "/100/101/102/", 2),
        "d": (100, "/100/103/", 1),
    }


def test_streaming_reports_what_check_reports():
    features = [
        unit("a", "c", row=1),
        unit("b", "a", row=2),
        unit("c", "b", row=3),  # a cycle
        unit("e", row=4),
        unit("e", "a", row=5),  # a duplicate
        unit("f", "ghost", row=6),
        unit("g", "f", row=7),
        unit("h", "gone", row=8),  # the reader rejected "gone"
        unit("i", "e", row=9),
    ]
    placer, placed = placed_by_streaming(features, frozenset({"gone"}))
    plan = tree_plan.check(features, {}, frozenset({"gone"}))
    assert [u.feature.ref for u in placed] == [f.ref for f in plan.ordered] == ["e", "i"]
    assert sorted((p.row, p.message) for p in placer.problems) == sorted(
        (p.row, p.message) for p in plan.problems
    )


def test_streaming_agrees_with_check_and_paths_in_any_file_order():
    import random

    rng = random.Random(7)
    features = [unit("r0")] + [unit(f"r{i}", f"r{rng.randrange(i)}", row=i) for i in range(1, 400)]
    for _ in range(5):
        rng.shuffle(features)
        placer, placed = placed_by_streaming(features)
        plan = tree_plan.check(features, {})
        ids = {u.feature.ref: u.id for u in placed}
        expected = tree_plan.paths(plan.ordered, ids, {})
        assert placer.problems == [] and len(placed) == 400
        assert {u.feature.ref: (u.path, u.depth) for u in placed} == expected


def test_remembering_only_the_parents_places_as_remembering_every_unit():
    import random

    rng = random.Random(11)
    features = [unit("r0")] + [unit(f"r{i}", f"r{rng.randrange(i)}", row=i) for i in range(1, 400)]
    parents = frozenset(f.parent_ref for f in features if f.parent_ref)
    assert len(parents) < len(features)  # leaves are not remembered
    for _ in range(5):
        rng.shuffle(features)
        every, placed_every = placed_by_streaming(features)
        lean = tree_plan.Placer(range(100, 100_000), [], parents)
        placed_lean = [unit for feature in features for unit in lean.add(feature)]
        lean.finish(frozenset())
        assert lean.problems == [] and lean.count == every.count == 400
        assert placed_lean == placed_every


def test_remembering_only_the_parents_leaves_a_leafs_repeat_to_the_database():
    lean = tree_plan.Placer(range(1, 100), [], frozenset({"a"}))
    placed = [u for f in [unit("a"), unit("b", "a"), unit("b", "a", row=3)] for u in lean.add(f)]
    assert [u.feature.ref for u in placed] == ["a", "b", "b"] and lean.problems == []  # the index finds it
    again = [u for f in [unit("a"), unit("a", row=2)] for u in lean.add(f)]
    assert again == [] and lean.problems[0].message == "'a' is also on level-1-X row 1"  # a parent's


def test_a_parent_the_survey_did_not_list_is_refused():
    lean = tree_plan.Placer(range(1, 100), [], frozenset({"a"}))
    lean.add(unit("a"))
    with pytest.raises(tree_plan.NotSurveyed):
        lean.add(unit("c", "unlisted"))


@pytest.mark.parametrize("lean", [False, True], ids=["every unit kept", "parents kept"])
def test_adding_a_batch_places_as_adding_one_by_one(lean):
    import random

    rng = random.Random(5)
    features = [unit("r0")] + [unit(f"r{i}", f"r{rng.randrange(i)}", row=i) for i in range(1, 300)]
    features += [unit("r7", "r0", row=300), unit("r250", "r3", row=301), unit("x", "ghost", row=302)]
    parents = frozenset(f.parent_ref for f in features if f.parent_ref) if lean else None
    for _ in range(4):
        rng.shuffle(features)
        one_by_one = tree_plan.Placer(range(100, 100_000), [], parents)
        placed_one_by_one = [u for feature in features for u in one_by_one.add(feature)]
        batched = tree_plan.Placer(range(100, 100_000), [], parents)
        placed_batched = [
            u for start in range(0, 303, 50) for u in batched.add_all(features[start : start + 50])
        ]
        for placer in (one_by_one, batched):
            placer.finish(frozenset())
        assert placed_batched == placed_one_by_one and batched.count == one_by_one.count
        assert batched.problems == one_by_one.problems and batched.problems  # repeats, the ghost's child


def test_a_batch_that_stops_half_way_has_counted_what_it_placed():
    lean = tree_plan.Placer(range(1, 100), [], frozenset({"a"}))
    with pytest.raises(tree_plan.NotSurveyed):
        lean.add_all([unit("a"), unit("b", "a"), unit("c", "unlisted")])
    assert lean.count == 2  # as `add` one by one would have counted
