import { randomBytes } from 'node:crypto';
import { Tokenizer, TokenParser, TokenType, type TokenizerOptions, type TokenParserOptions } from '@streamparser/json';

type ParsedTokenInfo = Parameters<Tokenizer['onToken']>[0];
type ParsedElementInfo = Parameters<TokenParser['onValue']>[0];

/**
 * Stands in, as the string `"${NUMBER_TAG}${i}"`, for the i-th number of a value a double would
 * change (an integer past 2^53, `1e400`, `1.0`, `-0`) while the value is parsed and written back
 * by `stringifyInPieces`, which writes the number's own text there. Never shown to a client.
 */
export const NUMBER_TAG = randomBytes(12).toString('hex');

/**
 * Stands in for the member name `"__proto__"` while a value is parsed: assigned as it is, the name
 * would set the object's prototype and the member would vanish. Never shown to a client.
 */
export const PROTO_KEY = `__proto__${randomBytes(12).toString('hex')}`;

/**
 * Most numbers one value keeps as written, and most `__proto__` members it keeps; past them it
 * holds what `JSON.parse` would. Each is spliced back on its own, and a value of millions must not
 * hold the event loop.
 */
export const MAX_KEPT_NUMBERS = 10_000;

class ExactTokenizer extends Tokenizer {
  numbers: string[] = [];

  protected override parseNumber(text: string): number {
    const value = Number(text);
    if (String(value) === text || this.numbers.length >= MAX_KEPT_NUMBERS) return value;
    this.numbers.push(text);
    return `${NUMBER_TAG}${this.numbers.length - 1}` as unknown as number;
  }
}

const { LEFT_BRACE, RIGHT_BRACE, LEFT_BRACKET, RIGHT_BRACKET, COMMA, STRING } = TokenType;

/**
 * `@streamparser/json`'s `JSONParser`, except that values keep what `JSON.stringify` would not
 * give back: numbers as {@link NUMBER_TAG} markers, `"__proto__"` members under {@link PROTO_KEY}.
 * {@link take} hands over what the values parsed since it was last called kept, so only those take
 * the slower way back to text.
 */
export class ExactJsonParser {
  private readonly tokenizer: ExactTokenizer;
  private readonly tokens: TokenParser;
  private tokenWatcher: ((info: ParsedTokenInfo) => void) | undefined;
  /** Whether each open container is an object. */
  private readonly objects: boolean[] = [];
  private previous: TokenType | undefined;
  private protoKeys = 0;

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

  /** The numbers the values parsed since the last call kept (their markers count from 0), and whether they hold a {@link PROTO_KEY}. */
  take(): { numbers: string[]; protoKeys: boolean } {
    const kept = { numbers: this.tokenizer.numbers, protoKeys: this.protoKeys > 0 };
    this.tokenizer.numbers = [];
    this.protoKeys = 0;
    return kept;
  }

  private token(info: ParsedTokenInfo): void {
    this.tokenWatcher?.(info);
    const previous = this.previous;
    this.previous = info.token;
    if (info.token === LEFT_BRACE || info.token === LEFT_BRACKET) this.objects.push(info.token === LEFT_BRACE);
    else if (info.token === RIGHT_BRACE || info.token === RIGHT_BRACKET) this.objects.pop();
    else if (info.token === STRING && info.value === '__proto__' && this.objects.at(-1) === true && (previous === LEFT_BRACE || previous === COMMA) && this.protoKeys < MAX_KEPT_NUMBERS) {
      this.protoKeys++;
      return this.tokens.write({ ...info, value: PROTO_KEY });
    }
    this.tokens.write(info);
  }
}
