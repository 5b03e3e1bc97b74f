import type { Statement } from 'better-sqlite3';
import { ownTurn } from '../../own-turn.js';
import type { ClaimedRequest } from '../store.js';
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
  private readonly sql: Record<'insert' | 'insertPiece' | 'first' | 'piece', Statement>;

  constructor(db: SqliteDatabase) {
    this.sql = {
      insert: db.prepare(`INSERT INTO request_params (key, params, more) VALUES (?, ?, ?)`),
      insertPiece: db.prepare(`INSERT INTO request_param_pieces (key, piece, text) VALUES (?, ?, ?)`),
      first: db.prepare(`SELECT params, octet_length(params) + more AS bytes, more FROM request_params WHERE key = ?`),
      piece: db.prepare(`SELECT text FROM request_param_pieces WHERE key = ? AND piece = ?`).pluck(),
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
      await ownTurn();
      this.sql.insertPiece.run(key, i, rest[i]);
    }
  }

  /**
   * The params text of request `key` and its size in bytes: all of it, or, for large params, the
   * first piece and the bytes of the rest (`more`), which {@link readRest} reads.
   */
  read(key: number): { params: string; bytes: number; more: number } {
    return this.sql.first.get(key) as { params: string; bytes: number; more: number };
  }

  /**
   * Completes the params of claimed requests whose first piece {@link read} gave, each with the
   * `more` bytes it said were left. Returns the requests whose pieces are no longer all there:
   * deleted with their batch meanwhile.
   */
  async readRests(pieced: Array<{ request: ClaimedRequest; more: number }>): Promise<Set<ClaimedRequest>> {
    const gone = new Set<ClaimedRequest>();
    for (const { request, more } of pieced) {
      const rest = await this.readRest(request.key, more);
      if (rest === null) gone.add(request);
      // Joined in a turn of its own into one flat string: one built piece by piece would be copied whole by its parse, in the parse's turn.
      else request.params = [request.params, ...rest].join('');
    }
    return gone;
  }

  /**
   * The `more` bytes of params text after the first piece, read a piece per turn of the event
   * loop (32 MB at once would hold it for a third of a second), then a turn for their join; null
   * when they are not all there.
   */
  private async readRest(key: number, more: number): Promise<string[] | null> {
    const rest: string[] = [];
    for (let i = 0, bytes = 0; bytes < more; i++) {
      await ownTurn();
      const piece = this.sql.piece.get(key, i) as string | undefined;
      if (piece === undefined) return null;
      rest.push(piece);
      bytes += Buffer.byteLength(piece);
    }
    await ownTurn();
    return rest;
  }
}
