/**
 * A scenario's two sizes from its full parameters and what the tiny (smoke) run changes in them:
 * both sizes have every parameter, and the tiny one names only those it makes smaller.
 */
export function fullAndTiny<P extends Record<string, number>>(full: P, tiny: Partial<P>): { full: P; tiny: P } {
  return { full, tiny: { ...full, ...tiny } };
}
