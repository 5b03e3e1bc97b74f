const BACKSLASH = 0x5c;
const LETTER_U = 0x75;
const OTHER = 0;
const HIGH = 1;
const LOW = 2;

/**
 * What the `\uXXXX` escape at `at` names: the high or low half of a surrogate pair, or any other
 * code unit. Only its first two digits are read (`d8`-`db` high, `dc`-`df` low, either case); a
 * bad digit makes the body invalid JSON, which the parser refuses.
 */
function escapeAt(text: string, at: number): number {
  if (text.charCodeAt(at) !== BACKSLASH || text.charCodeAt(at + 1) !== LETTER_U) return OTHER;
  // `| 0x20` lower-cases a letter and leaves a digit as it is.
  if ((text.charCodeAt(at + 2) | 0x20) !== 0x64) return OTHER;
  const second = text.charCodeAt(at + 3) | 0x20;
  if (second === 0x38 || second === 0x39 || second === 0x61 || second === 0x62) return HIGH;
  return second >= 0x63 && second <= 0x66 ? LOW : OTHER;
}

/**
 * Finds `\uXXXX` escapes of a lone surrogate in JSON text that arrives in pieces. The create
 * body's streaming parser keeps strings as UTF-8, which has no lone surrogates: it turns one into
 * U+FFFD, joins it to a surrogate of a later string, or drops the character after it, so the
 * stored params would differ from those sent. Such bodies are refused instead.
 */
export class SurrogateEscapes {
  /** The end of the text seen so far, from a backslash whose escape is not complete yet. */
  private carry = '';

  /** True when `piece`, following the pieces before it, holds an escape of a lone surrogate. */
  loneIn(piece: string): boolean {
    const text = this.carry.length > 0 ? this.carry + piece : piece;
    this.carry = '';
    for (let at = text.indexOf('\\'); at !== -1; ) {
      const rest = text.length - at;
      // An escape not complete yet (a pair's low half included) waits for the next piece.
      if (rest < 2 || (text.charCodeAt(at + 1) === LETTER_U && rest < 6)) {
        this.carry = text.slice(at);
        return false;
      }
      if (text.charCodeAt(at + 1) !== LETTER_U) {
        // Any other escape is two characters (`\\`, `\"`, `\n`, ...).
        at = text.indexOf('\\', at + 2);
        continue;
      }
      const unit = escapeAt(text, at);
      if (unit === LOW) return true;
      if (unit === HIGH) {
        if (rest < 12) {
          this.carry = text.slice(at);
          return false;
        }
        if (escapeAt(text, at + 6) !== LOW) return true;
        at += 6;
      }
      at = text.indexOf('\\', at + 6);
    }
    return false;
  }

  /** True when the text ended right after the high half of a pair. */
  loneAtEnd(): boolean {
    return escapeAt(this.carry, 0) === HIGH;
  }
}
