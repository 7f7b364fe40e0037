DROP TABLE vulnerability_packages;
DROP TABLE vulnerabilities;
DROP TABLE image_packages;
DROP TABLE package_versions;
DROP TABLE packages;
DROP TABLE image_sboms;
