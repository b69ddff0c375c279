/** "Did you mean" support for unknown options. */

/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const deletion = (previous[j] ?? 0) + 1;
      const insertion = (current[j - 1] ?? 0) + 1;
      current.push(Math.min(substitution, deletion, insertion));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate the user most likely meant: the shortest one that starts with `typed`
 * (for 3+ characters), else the nearest by edit distance when it is close enough
 * (at most max(2, half the typed length)). Undefined when nothing is close.
 */
export function closestMatch(typed: string, candidates: readonly string[]): string | undefined {
  if (typed.length >= 3) {
    const prefixed = candidates.filter((c) => c.startsWith(typed)).sort((x, y) => x.length - y.length);
    if (prefixed[0] !== undefined) return prefixed[0];
  }
  const reach = Math.max(2, Math.floor(typed.length / 2));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= reach ? best : undefined;
}
