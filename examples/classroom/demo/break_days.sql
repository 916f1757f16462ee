-- Two more broken days in raw.events, as upstream delivers them sometimes:
-- 2024-02-20 loaded twice (every event of the day again, same event_id),
-- and 2024-03-05 arrived with its platform column null.
INSERT INTO raw.events
SELECT * FROM raw.events WHERE occurred_at::DATE = DATE '2024-02-20';

UPDATE raw.events SET platform = NULL WHERE occurred_at::DATE = DATE '2024-03-05';
