-- Agent-task history, the shape of the platform's own data: short keys, text prompts, jsonb results,
-- timestamps. Hex text and jsonb compress about 3-4x, like a real database (pgbench's blank-padded
-- rows compress ~55x and make any dump look free). :rows rows per ~GB * scale.
CREATE TABLE agents (id int PRIMARY KEY, name text NOT NULL, pool text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO agents SELECT g, 'agent-' || g, 'pool-' || (g % 7), timestamptz '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 500) g;
CREATE TABLE tasks (
  id bigint PRIMARY KEY,
  agent_id int NOT NULL REFERENCES agents (id),
  status text NOT NULL,
  prompt text NOT NULL,
  result jsonb NOT NULL,
  created_at timestamptz NOT NULL
);
INSERT INTO tasks
SELECT g,
       1 + g % 500,
       (ARRAY['queued', 'running', 'done', 'failed'])[1 + g % 4],
       md5(g::text) || ' ' || md5((g * 31)::text) || ' ' || md5((g * 17)::text),
       jsonb_build_object('tokens', g % 4096, 'score', (g % 1000) / 10.0, 'digest', md5((g * 7)::text), 'tags', jsonb_build_array('t' || g % 13, 't' || g % 29)),
       timestamptz '2026-01-01' + g * interval '100 ms'
  FROM generate_series(1, :rows) g;
CREATE INDEX tasks_agent ON tasks (agent_id, created_at);
