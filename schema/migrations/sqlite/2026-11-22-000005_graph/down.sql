DROP TABLE application_members;
DROP TABLE applications;
DROP TABLE dependencies;
DROP TABLE entity_apis;
DROP TABLE dependency_declarations;
ALTER TABLE teams DROP COLUMN contacts_key;
ALTER TABLE teams DROP COLUMN contacts_at;
DROP TABLE entities;
