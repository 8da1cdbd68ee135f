DROP TABLE consents;
DROP TABLE accounts;
