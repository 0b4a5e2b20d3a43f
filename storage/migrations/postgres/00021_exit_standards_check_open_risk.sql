-- +goose Up
-- An open risk (返贫风险) at a registered household holds its exit: the
-- built-in standard lists no_open_risk (无未消除的返贫风险) since that
-- decision, but a year's standard saved before it keeps the list it was
-- saved with, so those years judged exits without looking at open risks
-- until an admin added the indicator by hand. This adds it once to every
-- saved standard that has no such indicator (by code or by check), where
-- the built-in list has it — before the first indicator confirmed at the
-- village review, else last — and moves the version on, so a form read
-- before it is refused as stale instead of saving the old list over it.
-- It runs once: an admin who then removes the indicator keeps it removed.
UPDATE exit_standards SET
    indicators = (
        SELECT jsonb_agg(indicator ORDER BY position)
        FROM (
            SELECT i.value AS indicator, i.ordinality::numeric AS position
            FROM jsonb_array_elements(exit_standards.indicators) WITH ORDINALITY AS i
            UNION ALL
            SELECT '{"code": "no_open_risk", "name_zh": "无未消除的返贫风险", "check": "no_open_risk"}'::jsonb,
                COALESCE((SELECT min(c.ordinality) FROM jsonb_array_elements(exit_standards.indicators) WITH ORDINALITY AS c
                          WHERE c.value->>'check' = 'confirmed'), 2147483647) - 0.5
        ) AS placed),
    version = version + 1
WHERE jsonb_typeof(indicators) = 'array'
  AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(indicators) AS i
                  WHERE i.value->>'code' = 'no_open_risk' OR i.value->>'check' = 'no_open_risk');

-- +goose Down
-- Nothing to undo: which indicators the Up added, and which an admin has
-- since kept, cannot be told apart, and the indicator is valid either way.
SELECT 1;
