"""Matching the units a file gives no ref (csv_tree's leaves) to a version's units, by their parent
and name, before an import into an existing version is checked.

A leaf is matched only when that is unique: one row of the file and one unit of the version with that
name under that parent. Otherwise its rows are errors, each naming the others: creating a unit would
add a second copy of the school at every re-import, and picking one of several would move one
school's data onto another. With `skip_invalid` those rows are skipped, and the units they might be
are left as they are (`close_missing` does not close them).
"""

from collections import defaultdict

from chalicelib.imports.unit_model import Feature, Package, RowProblem


def match_by_place(package: Package, existing: dict[str, dict]) -> frozenset[str]:
    """Gives each matched leaf its unit's ref, and a new leaf a ref free in the version; takes the
    ambiguous ones out of `package` (reported). The refs of the version's units left as they are."""
    unnamed = [feature for feature in package.features if feature.ref in package.placed_by_name]
    if not unnamed:
        return frozenset()
    in_file: dict[tuple, list[Feature]] = defaultdict(list)
    for feature in unnamed:
        in_file[(feature.parent_ref, feature.name)].append(feature)
    claimed = {feature.ref for feature in package.features if feature.ref not in package.placed_by_name}
    in_version: dict[tuple, list[str]] = defaultdict(list)
    for ref, unit in existing.items():
        place = (unit["parent_ref"], unit["name"])
        if place in in_file and ref not in claimed:
            in_version[place].append(ref)
    taken = set(existing) | claimed
    dropped: set[int] = set()
    spared: set[str] = set()
    for place, rows in in_file.items():
        units = in_version.get(place, [])
        if len(units) == 1 and len(rows) == 1:
            rows[0].ref = units[0]
        elif not units:  # new: named as the reader named them, clear of the version's refs
            base = rows[0].ref  # the first row's, without a `#2`
            for feature in rows:
                feature.ref = _free(base, taken)
        else:
            _report(package, place, rows, units)
            dropped |= {id(feature) for feature in rows}
            spared |= set(units)
    if dropped:
        package.features = [feature for feature in package.features if id(feature) not in dropped]
    return frozenset(spared)


def _free(ref: str, taken: set[str]) -> str:
    """`ref`, or `ref#2`, `ref#3`... the first the version and the file do not use."""
    made, count = ref, 1
    while made in taken:
        count += 1
        made = f"{ref}#{count}"
    taken.add(made)
    return made


def _report(package: Package, place: tuple, rows: list[Feature], units: list[str]) -> None:
    parent, name = place
    listed = ", ".join(str(feature.row) for feature in rows)
    message = (
        f"{len(rows)} row(s) of the file ({listed}) and {len(units)} unit(s) of the version are named "
        f"{name!r} under {parent or 'no parent'!r}: a unit without a ref is matched by its parent and name "
        "only when one row and one unit have them; give these rows a ref, or import with skip_invalid to "
        "leave them, and those units, as they are"
    )
    for feature in rows:
        package.problems.append(RowProblem(feature.layer, feature.row, "name", message))
