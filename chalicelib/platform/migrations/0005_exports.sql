-- The ids of a unit's ancestors, read from its path ('/1/5/27/' -> {1,5}): root first.
CREATE FUNCTION ancestor_ids(path text) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN trim_array(string_to_array(btrim(path, '/'), '/')::bigint[], 1);
