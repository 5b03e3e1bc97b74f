/** A model name pattern as the config file writes it: `*` matches any run of characters, nothing else is special. */
export function modelPattern(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** A test for model names matching any of `patterns`. */
export function matchesAnyModel(patterns: string[]): (model: string) => boolean {
  const compiled = patterns.map(modelPattern);
  return (model) => compiled.some((pattern) => pattern.test(model));
}
