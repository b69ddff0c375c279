/**
 * Strips absolute file paths from text that may reach a client or a log (engine messages, errors).
 * Relative fragments such as "a/b" are kept: they tell the user something and reveal no location.
 */

// POSIX absolute paths (/x/y), home paths (~/x), Windows drive paths (C:\x or C:/x) and file:// URLs.
// A path runs to its last separator before a quote, comma, parenthesis or line end (so names with
// spaces are covered), then to the end of that last name. Over-redaction is the safe side.
const PATH = /(?:file:\/\/)?(?:(?<![\w.~-])\/(?=[^\s/'"(),])|(?<![\w])~\/|(?<![\w])[A-Za-z]:[\\/])(?:[^'"(),\n]*[\\/])?[^\s'"(),]*/g;

export function sanitizeMessage(message: string): string {
  return message.replace(PATH, (match) => {
    // Keep trailing punctuation that belongs to the sentence.
    const trail = /[.,:;!?]+$/.exec(match)?.[0] ?? "";
    return `<path>${trail}`;
  });
}
