/**
 * Runs `task` over `items` with at most `limit` tasks in flight; results keep the input order.
 * A rejected task rejects the whole call only after every started task has settled (use it with tasks that
 * catch their own errors when partial results matter).
 * @throws RangeError when `limit` is not a positive integer
 */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
  }
  const results = new Array<R>(items.length);
  let next = 0;
  const errors: unknown[] = [];
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        errors.push(error);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  if (errors.length > 0) throw errors[0];
  return results;
}
