DROP TABLE odcs_composes;
