// The DHIS2 pages' texts (English); merged into strings.js's table.
export const en = {};
