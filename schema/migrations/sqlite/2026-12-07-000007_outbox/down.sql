DROP TABLE outbox_incidents;
DROP TABLE outbox_cursor;
DROP TABLE outbox;
