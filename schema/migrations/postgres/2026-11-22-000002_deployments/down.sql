DROP TABLE clusters;
DROP TABLE cluster_snapshots;
DROP TABLE deployment_observations;
