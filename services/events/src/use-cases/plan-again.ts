/** What an attempt answers when its commit found that another writer came first: plan again on what is stored now. */
export const LOST_RACE = Symbol('lost race');

/**
 * Runs `attempt` — read what is stored, decide, commit with conditions on what was read — until it commits or
 * answers without writing, at most `tries` times; then throws what `giveUp` makes. The stores check the premises
 * of a decision at commit instead of locking what was read, so this loop is how a decision stays true under
 * concurrent writers, in one process or many.
 */
export async function untilCommitted<T>(tries: number, giveUp: () => Error, attempt: () => Promise<T | typeof LOST_RACE>): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const result = await attempt();
    if (result !== LOST_RACE) return result;
  }
  throw giveUp();
}
