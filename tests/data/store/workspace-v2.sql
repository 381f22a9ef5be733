-- A workspace database of schema version 2 (before cluster jobs), as sqlite3's .dump writes it,
-- with two runs, their curves, three downstream scores and an imported row.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, json TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
INSERT INTO experiments VALUES(1,'S','{"name": "S"}','00000000000000aa','2024-05-01T10:00:00Z');
CREATE TABLE runs (
  id INTEGER PRIMARY KEY, experiment_id INTEGER REFERENCES experiments(id), name TEXT NOT NULL UNIQUE,
  pipeline TEXT NOT NULL, status TEXT NOT NULL, device TEXT, host TEXT, app_version TEXT,
  libtorch_version TEXT, cuda_version TEXT, seed INTEGER, git_commit TEXT, directory TEXT,
  started_at TEXT, ended_at TEXT, error TEXT);
INSERT INTO runs VALUES(1,1,'S-1','S','done','cpu','node1','0.1.0','1.13.1',NULL,42,NULL,'/runs/S-1','2024-05-01T10:00:00Z','2024-05-01T12:00:00Z',NULL);
INSERT INTO runs VALUES(2,1,'B-1','B','done','cpu','node1','0.1.0','1.13.1',NULL,7,NULL,'/runs/B-1','2024-05-02T10:00:00Z','2024-05-02T14:00:00Z',NULL);
CREATE TABLE stages (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, stage_index INTEGER NOT NULL,
  size TEXT NOT NULL, config_json TEXT, budget TEXT, parameters INTEGER, start_step INTEGER, end_step INTEGER,
  PRIMARY KEY (run_id, stage_index));
INSERT INTO stages VALUES(1,0,'S','{}','2',1000,0,200);
INSERT INTO stages VALUES(2,0,'B','{}','3',4000,0,300);
CREATE TABLE growth_events (
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  stage_index INTEGER NOT NULL, step INTEGER NOT NULL, operator TEXT NOT NULL, valid_loss_before REAL,
  valid_loss_after REAL, probe_loss_before REAL, probe_loss_after REAL, probe_max_logit_difference REAL,
  seconds REAL, plan_json TEXT);
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, stage_index INTEGER NOT NULL,
  step INTEGER NOT NULL, tokens INTEGER, flops REAL, wall_seconds REAL, train_loss REAL, valid_loss REAL,
  learning_rate REAL, gradient_norm REAL, step_seconds REAL);
INSERT INTO metrics VALUES(1,0,100,51200,1500000000000.0,3600.0,4.5,4.75,NULL,NULL,NULL);
INSERT INTO metrics VALUES(1,0,200,102400,3000000000000.0,7200.0,4.0,4.25,NULL,NULL,NULL);
INSERT INTO metrics VALUES(2,0,300,153600,6000000000000.0,14400.0,3.5,3.75,NULL,NULL,NULL);
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  stage_index INTEGER NOT NULL, step INTEGER NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
INSERT INTO checkpoints VALUES(1,1,0,200,'/runs/S-1/final','final','2024-05-01T12:00:00Z');
CREATE TABLE downstream_results (
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, task TEXT NOT NULL,
  metric TEXT NOT NULL, value REAL NOT NULL, settings_json TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
INSERT INTO downstream_results VALUES(1,1,'klue-nli','accuracy',71.25,'{"epochs":3,"seed":42}','2024-05-03T09:00:00Z');
INSERT INTO downstream_results VALUES(2,1,'korquad-ext','em',55.500000000000000001,'{"epochs":2}','2024-05-03T10:00:00Z');
INSERT INTO downstream_results VALUES(3,1,'korquad-ext','f1',68.75,'{"epochs":2}','2024-05-03T10:00:00Z');
CREATE TABLE latest_metrics (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE, step INTEGER, tokens INTEGER, flops REAL,
  wall_seconds REAL, train_loss REAL, valid_loss REAL, best_valid_loss REAL);
INSERT INTO latest_metrics VALUES(1,200,102400,3000000000000.0,7200.0,4.0,4.25,4.25);
INSERT INTO latest_metrics VALUES(2,300,153600,6000000000000.0,14400.0,3.5,3.75,3.75);
CREATE TABLE external_results (
  id INTEGER PRIMARY KEY, source TEXT NOT NULL, row_index INTEGER NOT NULL, model TEXT NOT NULL, budget TEXT,
  train_time_h REAL, valid_loss REAL, klue_nli_acc REAL, korquad_ext_em REAL, korquad_ext_f1 REAL,
  korquad_gen_em REAL, korquad_gen_f1 REAL, summarization_rouge_l_f1 REAL,
  imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  UNIQUE (source, row_index));
INSERT INTO external_results VALUES(1,'Table 2',1,'B','3',10.499999999999999999,3.5,72.5,NULL,NULL,NULL,NULL,NULL,'2026-12-07T15:53:35Z');
CREATE INDEX metrics_by_run ON metrics(run_id, step);
CREATE TRIGGER metrics_latest AFTER INSERT ON metrics BEGIN
  INSERT INTO latest_metrics (run_id, step, tokens, flops, wall_seconds, train_loss, valid_loss, best_valid_loss)
  VALUES (NEW.run_id, NEW.step, NEW.tokens, NEW.flops, NEW.wall_seconds, NEW.train_loss, NEW.valid_loss,
          NEW.valid_loss)
  ON CONFLICT (run_id) DO UPDATE SET
    step = max(step, excluded.step), tokens = max(tokens, excluded.tokens), flops = max(flops, excluded.flops),
    wall_seconds = max(wall_seconds, excluded.wall_seconds),
    train_loss = coalesce(excluded.train_loss, train_loss),
    valid_loss = coalesce(excluded.valid_loss, valid_loss),
    best_valid_loss = min(coalesce(best_valid_loss, excluded.valid_loss), coalesce(excluded.valid_loss, best_valid_loss));
END;
COMMIT;
PRAGMA user_version = 2;
