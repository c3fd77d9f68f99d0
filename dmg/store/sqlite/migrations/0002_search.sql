-- Search: one full-text row per released version (name, descriptions, function names) and the APIs each version
-- provides or requires. The versions released before this migration are indexed by its step.
CREATE VIRTUAL TABLE IF NOT EXISTS module_text USING fts5(
    name, description, functions, dxn UNINDEXED, version UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS module_apis (
    dxn TEXT NOT NULL, version TEXT NOT NULL, api TEXT NOT NULL, PRIMARY KEY (api, dxn, version)
) WITHOUT ROWID;
