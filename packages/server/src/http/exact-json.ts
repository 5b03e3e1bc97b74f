import { randomBytes } from 'node:crypto';
import { Tokenizer, TokenParser, TokenType, type TokenizerOptions, type TokenParserOptions } from '@streamparser/json';

type ParsedTokenInfo = Parameters<Tokenizer['onToken']>[0];
type ParsedElementInfo = Parameters<TokenParser['onValue']>[0];

/**
 * A JSON number kept as it was written, because `Number` would change its text: an integer past
 * 2^53 (a uint64 bound in a tool's schema, an int64 `seed`), `1e400`, `1.0`, `-0`. Written back as
 * that text by `stringifyInPieces`; anything else that reads it gets the nearest double.
 */
export class RawNumber {
  constructor(readonly text: string) {}

  toJSON(): number {
    return Number(this.text);
  }
}

/**
 * Stands in for the member name `"__proto__"` while a value is parsed: assigned as it is, the name
 * would set the object's prototype and the member would vanish. Never shown to a client.
 */
export const PROTO_KEY = `__proto__${randomBytes(12).toString('hex')}`;

class ExactTokenizer extends Tokenizer {
  kept = 0;

  protected override parseNumber(text: string): number {
    const value = Number(text);
    if (String(value) === text) return value;
    this.kept++;
    return new RawNumber(text) as unknown as number;
  }
}

const { LEFT_BRACE, RIGHT_BRACE, LEFT_BRACKET, RIGHT_BRACKET, COMMA, STRING } = TokenType;

/**
 * `@streamparser/json`'s `JSONParser`, except that values keep what `JSON.stringify` would not
 * give back: numbers as {@link RawNumber}s, `"__proto__"` members under {@link PROTO_KEY}.
 * {@link takeKept} says whether the values parsed since it was last asked hold either, so only
 * those take the slower way back to text.
 */
export class ExactJsonParser {
  private readonly tokenizer: ExactTokenizer;
  private readonly tokens: TokenParser;
  private tokenWatcher: ((info: ParsedTokenInfo) => void) | undefined;
  /** Whether each open container is an object. */
  private readonly objects: boolean[] = [];
  private previous: TokenType | undefined;
  private protoKeys = 0;
  private seen = 0;

  constructor(options: TokenizerOptions & TokenParserOptions) {
    this.tokenizer = new ExactTokenizer(options);
    this.tokens = new TokenParser(options);
    this.tokenizer.onToken = (info) => this.token(info);
    this.tokens.onError = (error) => this.tokenizer.error(error);
    this.tokens.onEnd = () => {
      if (!this.tokenizer.isEnded) this.tokenizer.end();
    };
  }

  get isEnded(): boolean {
    return this.tokenizer.isEnded && this.tokens.isEnded;
  }

  /** Sees every token, as the tokenizer gives it, before the parser does. */
  set onToken(watcher: (info: ParsedTokenInfo) => void) {
    this.tokenWatcher = watcher;
  }

  set onValue(callback: (info: ParsedElementInfo) => void) {
    this.tokens.onValue = callback;
  }

  write(text: string): void {
    this.tokenizer.write(text);
  }

  /** Whether the values parsed since the last call hold a {@link RawNumber} or a {@link PROTO_KEY}. */
  takeKept(): boolean {
    const kept = this.tokenizer.kept + this.protoKeys;
    const any = kept !== this.seen;
    this.seen = kept;
    return any;
  }

  private token(info: ParsedTokenInfo): void {
    this.tokenWatcher?.(info);
    const previous = this.previous;
    this.previous = info.token;
    if (info.token === LEFT_BRACE || info.token === LEFT_BRACKET) this.objects.push(info.token === LEFT_BRACE);
    else if (info.token === RIGHT_BRACE || info.token === RIGHT_BRACKET) this.objects.pop();
    else if (info.token === STRING && info.value === '__proto__' && this.objects.at(-1) === true && (previous === LEFT_BRACE || previous === COMMA)) {
      this.protoKeys++;
      return this.tokens.write({ ...info, value: PROTO_KEY });
    }
    this.tokens.write(info);
  }
}

/** Valid JSON `text` parsed with what `JSON.parse` would change kept (see {@link ExactJsonParser}). */
export function parseExact(text: string): unknown {
  const parser = new ExactJsonParser({ paths: ['$'], keepStack: false });
  let value: unknown;
  parser.onValue = (info) => {
    value = info.value;
  };
  parser.write(text);
  return value;
}
