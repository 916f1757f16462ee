-- The tables the quality tests validate. t has ten rows with nulls in
-- most columns; empty has t's columns and no rows.
CREATE TABLE t (id INTEGER, v INTEGER, s VARCHAR, d DATE, x DOUBLE, y DOUBLE, j VARCHAR, ts VARCHAR);
INSERT INTO t VALUES
 (1, 1, 'a', '2024-01-01', 1.0, 1.0, '{"a":1}', '2024-01-01 10:00:00'),
 (2, 2, 'b', '2024-01-02', 2.0, 1.0, '[1,2]', '2024-01-02'),
 (3, 3, 'c', '2024-01-03', 3.0, 3.0, 'null', '01/02/2024'),
 (4, 4, 'a', '2024-01-04', 4.0, 3.0, '{bad', 'nope'),
 (5, 5, 'b', '2024-01-05', 5.0, 6.0, NULL, NULL),
 (6, 6, NULL, '2024-01-06', 6.0, NULL, '1', '2024-02-30'),
 (7, 7, 'c', '2024-01-07', NULL, NULL, '"s"', '2024-01-07'),
 (8, 8, 'abc', '2024-01-08', 8.0, 7.0, '{}', '2024-01-08'),
 (9, NULL, 'x1', NULL, 9.0, 9.0, '{}', '2024-01-09'),
 (10, NULL, NULL, '2024-01-10', 10.0, 0.0, '{}', '2024-01-10');
CREATE TABLE empty AS SELECT * FROM t LIMIT 0;
CREATE TABLE other AS SELECT * FROM range(10);
