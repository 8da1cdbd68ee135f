DROP TABLE registered_clients;
