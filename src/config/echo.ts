/** Safe echoing of user-typed text in messages: no secrets, no absolute paths, bounded length. */

export type Echo = (value: string, maxLength?: number) => string;

const DEFAULT_MAX = 40;

function looksAbsolute(value: string): boolean {
  return /^(?:\/|~|\\\\|[A-Za-z]:[\\/])/.test(value);
}

/** Replaces every occurrence of the secret, then hides absolute paths, escapes control characters and truncates. */
export function makeEcho(secret: string | null): Echo {
  return (value, maxLength = DEFAULT_MAX) => {
    let shown = secret !== null && secret.length > 0 ? value.split(secret).join("<redacted>") : value;
    if (looksAbsolute(shown)) return "<path>";
    shown = JSON.stringify(shown).slice(1, -1);
    return shown.length > maxLength ? `${shown.slice(0, maxLength - 3)}...` : shown;
  };
}

/** Removes a secret from a finished message (a last line of defence; only for secrets long enough to be unambiguous). */
export function redact(message: string, secret: string | null): string {
  if (secret === null || secret.length < 8) return message;
  return message.split(secret).join("<redacted>");
}
