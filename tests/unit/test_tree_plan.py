from chalicelib import tree_plan
from chalicelib.gpkg import Feature


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
