let pending: string | null = null;

/** Keeps a message for the next page shown, e.g. after a delete navigates back to the list. */
export function setFlash(message: string): void {
  pending = message;
}

/** The message left for this page, once. */
export function takeFlash(): string | null {
  const message = pending;
  pending = null;
  return message;
}
