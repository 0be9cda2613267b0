/** Prepared statements kept per connection, so a query's SQL is compiled once. */
import type { Db } from '../db/connection';

type Statement = ReturnType<Db['prepare']>;
const statements = new WeakMap<Db, Map<string, Statement>>();

/** A prepared statement, prepared once per connection and SQL text. */
export function cached(db: Db, sql: string): Statement {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map()));
  let st = m.get(sql);
  if (!st) {
    st = db.prepare(sql);
    m.set(sql, st);
  }
  return st;
}
