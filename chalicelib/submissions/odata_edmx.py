"""A form's OData metadata document (EDMX), as ODK Central writes it: the submission metadata type,
an entity type for the submissions and one per repeat, a complex type per group."""

from xml.sax.saxutils import quoteattr

from chalicelib.submissions.odata_feed import EDM_TYPES, Field, fields_of, identifier

ROOT = "org.opendatakit.user"
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="org.opendatakit.submission">
      <ComplexType Name="metadata">
        <Property Name="submissionDate" Type="Edm.DateTimeOffset"/>
        <Property Name="updatedAt" Type="Edm.DateTimeOffset"/>
        <Property Name="deletedAt" Type="Edm.DateTimeOffset"/>
        <Property Name="submitterId" Type="Edm.String"/>
        <Property Name="submitterName" Type="Edm.String"/>
        <Property Name="attachmentsPresent" Type="Edm.Int64"/>
        <Property Name="attachmentsExpected" Type="Edm.Int64"/>
        <Property Name="status" Type="org.opendatakit.submission.Status"/>
        <Property Name="reviewState" Type="org.opendatakit.submission.ReviewState"/>
        <Property Name="deviceId" Type="Edm.String"/>
        <Property Name="edits" Type="Edm.Int64"/>
        <Property Name="formVersion" Type="Edm.String"/>
      </ComplexType>
      <EnumType Name="Status">
        <Member Name="notDecrypted"/>
        <Member Name="missingEncryptedFormData"/>
      </EnumType>
      <EnumType Name="ReviewState">
        <Member Name="hasIssues"/>
        <Member Name="edited"/>
        <Member Name="rejected"/>
        <Member Name="approved"/>
      </EnumType>
    </Schema>
"""


def edmx(xml_form_id: str, descriptor: dict | None) -> str:
    base = f"{ROOT}.{identifier(xml_form_id)}"
    entities: list[str] = []
    complexes: list[str] = []
    _entity(base, "Submissions", (), fields_of(descriptor), entities, complexes, primary=True)
    sets = "".join(
        f'        <EntitySet Name="{name}" EntityType="{base}.{name}"/>\n' for name in _names(entities)
    )
    return (
        HEAD
        + f'    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{base}">\n'
        + "".join(entities)
        + "".join(complexes)
        + f"      <EntityContainer Name={quoteattr(xml_form_id)}>\n{sets}      </EntityContainer>\n"
        + "    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>"
    )


def _entity(base: str, name: str, path: tuple[str, ...], fields: tuple[Field, ...], entities: list,
            complexes: list, primary: bool = False, parent: str | None = None) -> None:  # fmt: skip
    lines = [f'      <EntityType Name="{name}">\n', '        <Key><PropertyRef Name="__id"/></Key>\n',
             '        <Property Name="__id" Type="Edm.String"/>\n']  # fmt: skip
    if primary:
        lines.append('        <Property Name="__system" Type="org.opendatakit.submission.metadata"/>\n')
    if parent:
        lines.append(f'        <Property Name="__{parent}-id" Type="Edm.String"/>\n')
    entities.append("")  # its place, so that the entity comes before those of its repeats
    at = len(entities) - 1
    lines += _properties(base, path, fields, entities, complexes, name)
    entities[at] = "".join(lines) + "      </EntityType>\n"


def _properties(base: str, path: tuple[str, ...], fields: tuple[Field, ...], entities: list, complexes: list,
                table: str) -> list[str]:  # fmt: skip
    lines = []
    for field in fields:
        name = identifier(field.name)
        inner = (*path, name)
        type_name = f"{base}.Submissions.{'.'.join(inner)}"
        if field.kind == "group":
            body = _properties(base, inner, field.children, entities, complexes, table)
            complexes.append(f'      <ComplexType Name="Submissions.{".".join(inner)}">\n'
                             + "".join(body) + "      </ComplexType>\n")  # fmt: skip
            lines.append(f'        <Property Name="{name}" Type="{type_name}"/>\n')
        elif field.kind == "repeat":
            _entity(base, f"Submissions.{'.'.join(inner)}", inner, field.children, entities, complexes,
                    parent=table.replace(".", "-"))  # fmt: skip
            lines.append(f'        <NavigationProperty Name="{name}" Type="Collection({type_name})"/>\n')
        else:
            edm_type = EDM_TYPES.get(field.kind, "Edm.String")
            lines.append(f'        <Property Name="{name}" Type="{edm_type}"/>\n')
    return lines


def _names(entities: list[str]) -> list[str]:
    return [entity.split('"')[1] for entity in entities]
