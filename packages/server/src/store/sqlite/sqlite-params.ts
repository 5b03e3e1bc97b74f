import type { Statement } from 'better-sqlite3';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SqliteDatabase } from './sqlite-database.js';

/** A request's params bytes, in SQL over `request_params` as `alias`, without reading them. */
export const paramsBytes = (alias: string) => `(octet_length(${alias}.params) + ${alias}.more)`;

/** A request's whole params text, in SQL over `request_params` as `alias`. */
export const paramsText = (alias: string) => `(CASE WHEN ${alias}.more = 0 THEN ${alias}.params ELSE ${alias}.params
  || (SELECT group_concat(text, '' ORDER BY piece) FROM request_param_pieces WHERE key = ${alias}.key) END)`;

/**
 * Requests' params on SQLite. Small params are one value in `request_params`; large ones keep
 * their first piece there and the rest in `request_param_pieces`, so that no single SQLite call
 * copies more than a piece, and no copy of the whole text is made to store or read it.
 */
export class SqliteParams {
  private readonly sql: Record<'insert' | 'insertPiece' | 'first' | 'pieces', Statement>;

  constructor(db: SqliteDatabase) {
    this.sql = {
      insert: db.prepare(`INSERT INTO request_params (key, params, more) VALUES (?, ?, ?)`),
      insertPiece: db.prepare(`INSERT INTO request_param_pieces (key, piece, text) VALUES (?, ?, ?)`),
      first: db.prepare(`SELECT params, octet_length(params) + more AS bytes, more FROM request_params WHERE key = ?`),
      pieces: db.prepare(`SELECT text FROM request_param_pieces WHERE key = ? ORDER BY piece`).pluck(),
    };
  }

  /**
   * Stores the params of request `key` (inside the caller's transaction): all of them, or the first
   * piece, returning the rest for {@link insertRest}.
   */
  insert(key: number | bigint, params: string | string[]): string[] {
    if (typeof params === 'string') {
      this.sql.insert.run(key, params, 0);
      return [];
    }
    const [first = '', ...rest] = params;
    this.sql.insert.run(key, first, rest.reduce((sum, piece) => sum + Buffer.byteLength(piece), 0));
    return rest;
  }

  /** Stores the pieces {@link insert} returned, one write per turn of the event loop. */
  async insertRest(key: number | bigint, rest: string[]): Promise<void> {
    for (let i = 0; i < rest.length; i++) {
      await nextTurn();
      this.sql.insertPiece.run(key, i, rest[i]);
    }
  }

  /** The params text of request `key` and its size in bytes, read a piece at a time. */
  read(key: number): { params: string; bytes: number } {
    const { params, bytes, more } = this.sql.first.get(key) as { params: string; bytes: number; more: number };
    if (more === 0) return { params, bytes };
    return { params: params + (this.sql.pieces.all(key) as string[]).join(''), bytes };
  }
}
