/**
 * Empties a list that is used again. `pop` keeps the array's room; setting `length` to 0 is a
 * call into V8's runtime (even when the list is already empty) that also gives the room back,
 * to be grown again by the next push.
 */
export function emptyList(list: unknown[]): void {
  while (list.length > 0) list.pop();
}
